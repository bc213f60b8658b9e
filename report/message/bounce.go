package message

// Bounces: the messages a mail system sends back when it could not deliver,
// and the other automatic messages that land in the same mailbox.
//
// Three shapes exist:
//
//   - Standard DSNs (RFC 3464 inside a multipart/report, RFC 6522): one
//     per-recipient field group with Action, Status and Diagnostic-Code.
//     Parsed by dsn.go; the human-readable first part is still read, because
//     it names the SMTP stage ("in reply to RCPT TO command") that the
//     Diagnostic-Code leaves out, and some DSNs omit Diagnostic-Code.
//   - Non-standard bounce bodies (qmail, Exim, old Sendmail, Exchange 2003,
//     Lotus Notes, provider-specific texts): only prose. The recipients are
//     found where the prose lists them (X-Failed-Recipients, an address
//     alone at the start of a line, "<addr>:" …), and each recipient's
//     paragraph is searched for its reply.
//   - Not bounces at all: ARF feedback reports (RFC 5965, plus the Hotmail
//     JMRP and Apple unsubscribe variants) and auto-replies (RFC 3834). They
//     get the taxonomy's own reasons, feedback and vacation, from their
//     structure, not from a reply.
//
// Every recipient then becomes one explained reply: the reply found for it
// goes through the reply catalog (Explain). A few reasons are properties of
// the delivery, not of a reply, and are set here: delivered (Action:
// delivered/relayed/expanded, RFC 3464 §2.3.3) and expired (Action: delayed
// with nothing more specific to say, or a delivery given up after its retry
// time).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/catalog"
)

// ExplainedReply is one explained reply: for a bounce, one per recipient.
type ExplainedReply struct {
	Recipient string `json:"recipient,omitempty"`
	// Source says where the reply came from: reply, postfix-log, exim,
	// exchange-ndr, dsn, bounce-body, feedback-report, auto-reply.
	Source    string `json:"source"`
	Action    string `json:"action,omitempty"` // DSN Action (RFC 3464 §2.3.3)
	Status    string `json:"status,omitempty"` // DSN Status (RFC 3464 §2.3.4)
	RemoteMTA string `json:"remote_mta,omitempty"`
	Reply     string `json:"reply,omitempty"` // the text that was explained
	catalog.Explanation
	FeedbackType string   `json:"feedback_type,omitempty"` // ARF Feedback-Type (RFC 5965 §3.1)
	Entities     Entities `json:"entities"`
}

// Explained is everything `mxray explain` found in one input.
type Explained struct {
	// Kind is the shape of the input: reply, log, bounce, dsn, feedback, auto-reply.
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	// Sender is the address that sent the bounced message, when the input
	// says (the bounce's recipient, X-Postfix-Sender, ARF Original-Mail-From).
	Sender   string           `json:"sender,omitempty"`
	Replies  []ExplainedReply `json:"replies"`
	Entities Entities         `json:"entities"`
	Notes    []string         `json:"notes,omitempty"` // limits hit, parts not understood
}

// ExplainOptions tune ExplainInput.
type ExplainOptions struct {
	Stage  catalog.Stage // overrides the stage found in the text ("" or unknown: keep)
	Limits Limits        // zero: DefaultLimits
	// Cache, when set, explains replies through a catalog cache (mail
	// logs: the same reply with other addresses in it).
	Cache *catalog.Cache

	embedded bool // explaining a message quoted inside another: do not descend again
	// loneReply: the text is a reply pasted on its own, not a delivery
	// report; it says nothing of the stage it came at (classify.go).
	loneReply bool
}

// Bounds on the prose that is searched (the MIME limits bound the rest).
const (
	bncMaxNotification = 128 << 10 // bytes of a bounce's human-readable part
	bncMaxPasted       = 256 << 10 // bytes of pasted text that is not a message
	bncMaxParagraph    = 200       // lines of one recipient's paragraph
	bncMaxExplain      = 2 << 10   // bytes of reply text handed to the catalog
)

// ExplainInput explains what a user pasted: a whole message (bounce, DSN,
// feedback report, auto-reply) when the text starts with a header block,
// otherwise reply lines, log lines or an MTA's error text.
func ExplainInput(raw []byte, opt ExplainOptions) *Explained {
	findReplyMemo.reset()
	lim := opt.Limits
	if lim.MaxSize <= 0 {
		lim = DefaultLimits
	}
	var ex *Explained
	if msgs := bncSplitMbox(raw); len(msgs) > 1 {
		// An mbox of several messages: explain each, in order.
		ex = &Explained{Kind: "mbox"}
		for _, m := range msgs {
			one := ExplainMessage(ParseMessage(m, lim), opt)
			ex.Replies = append(ex.Replies, one.Replies...)
			ex.Notes = append(ex.Notes, one.Notes...)
			if ex.Subject == "" {
				ex.Subject, ex.Sender = one.Subject, one.Sender
			}
		}
	} else if bncLooksLikeMessage(raw) {
		ex = ExplainMessage(ParseMessage(raw, lim), opt)
	} else {
		if len(raw) > lim.MaxSize {
			raw = raw[:lim.MaxSize]
		}
		ex = ExplainText(pstCap(mimeDecodeCharset("", raw[:min(len(raw), bncMaxPasted)]), bncMaxPasted), opt)
	}
	var all []string
	for _, r := range ex.Replies {
		all = append(all, r.Recipient, r.RemoteMTA, r.Reply)
	}
	ex.Entities = ExtractEntities(strings.Join(all, "\n"))
	return ex
}

// bncSplitMbox splits an mbox (RFC 4155): messages start with a "From "
// line at the start of the input or after an empty line. At most 1000
// messages are kept.
func bncSplitMbox(raw []byte) [][]byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return nil
	}
	var out [][]byte
	start := 0
	closeAt := mimeCloseDelimiter(raw, 0)
	for i := 0; i < len(raw) && len(out) < 999; {
		j := bytes.Index(raw[i:], []byte("\n\nFrom "))
		if j < 0 {
			break
		}
		cut := i + j + 2
		i = cut
		// A "From " line inside an unfinished multipart is part of that
		// message (a forwarded bounce), not the start of the next one.
		if cut < closeAt {
			continue
		}
		out = append(out, raw[start:cut])
		start = cut
		closeAt = mimeCloseDelimiter(raw, start)
	}
	return append(out, raw[start:])
}

// mimeCloseDelimiter returns where the multipart message starting at start
// ends (the end of its close delimiter, RFC 2046 §5.1.1), start when it is
// not a multipart, and len(raw) when the close delimiter never comes.
func mimeCloseDelimiter(raw []byte, start int) int {
	p := &mimeParser{lim: DefaultLimits}
	h, _ := p.readHeader(mimeSkipMbox(raw[start:]))
	_, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return start
	}
	d := []byte("--" + params["boundary"] + "--")
	if k := bytes.Index(raw[start:], d); k >= 0 {
		return start + k + len(d)
	}
	return len(raw)
}

// bncLooksLikeMessage: a header block of at least two fields, one of them a
// field every message or bounce has, at the very start of the input.
func bncLooksLikeMessage(raw []byte) bool {
	raw = mimeSkipMbox(raw)
	p := &mimeParser{lim: DefaultLimits}
	h, _ := p.readHeader(raw[:min(len(raw), 64<<10)])
	if len(h) < 2 {
		return false
	}
	for _, f := range h {
		switch strings.ToLower(f.Name) {
		case "from", "received", "return-path", "subject", "content-type", "message-id", "date", "mime-version", "delivered-to":
			return true
		}
	}
	return false
}

// explainOne runs the catalog on one found reply and applies the stage override.
func explainOne(found FoundReply, opt ExplainOptions) catalog.Explanation {
	stage := found.Stage
	if opt.Stage != "" && opt.Stage != catalog.StageUnknown {
		stage = opt.Stage
	}
	if stage == "" {
		stage = catalog.StageUnknown
	}
	// A reply is a few hundred bytes; what is longer is the prose around it.
	// The bound keeps the catalog's work per reply small on hostile input.
	text := pstCap(found.Text, bncMaxExplain)
	if opt.Cache != nil {
		return opt.Cache.Explain(stage, found.Code, found.Enhanced, text)
	}
	return catalog.Explain(stage, found.Code, found.Enhanced, text)
}

// bncFallback reports whether an explanation came only from the fallback
// files (per enhanced code, basic code or class): the text said nothing the
// catalog recognised.
func bncFallback(ex catalog.Explanation) bool {
	c, err := catalog.Default()
	if err != nil || ex.Entry == "" {
		return true
	}
	e := c.Entry(ex.Entry)
	return e == nil || e.Fallback()
}

// ExplainMessage explains a parsed message: feedback report, auto-reply,
// DSN or non-standard bounce.
func ExplainMessage(m *Message, opt ExplainOptions) *Explained {
	root := m.Root
	ex := &Explained{Kind: "bounce", Subject: root.Header.Decoded("Subject"), Sender: dsnAddress(root.Header.Get("To"))}
	if m.Truncated {
		ex.Notes = append(ex.Notes, "input truncated to the size limit")
	}
	if m.Limited {
		ex.Notes = append(ex.Notes, "a MIME nesting, part-count or header limit was reached; the rest was not read")
	}
	if fb := bncFeedback(root); len(fb) > 0 {
		ex.Kind = "feedback"
		ex.Replies = append(ex.Replies, fb...)
		return ex
	}
	notification := bncNotificationText(root)
	if bncAutoReply(root, notification) {
		ex.Kind = "auto-reply"
		ex.Replies = append(ex.Replies, ExplainedReply{
			Recipient: dsnAddress(root.Header.Get("From")),
			Source:    "auto-reply",
			Reply:     pstJoin(strings.Split(bncTruncate(notification, 500), "\n")),
			Explanation: catalog.Explanation{Stage: catalog.StageUnknown, Reason: "vacation", Cause: "auto-reply",
				ActionBy: catalog.ActionNobody, Summary: "an automatic reply (out of office / vacation, RFC 3834), not a bounce: the message was delivered",
				Fix:        "nothing to fix; do not count it as a bounce",
				References: []string{"RFC 3834"}},
		})
		return ex
	}
	var dsns []*DSN
	root.Walk(func(p *Part) {
		if p.MediaType == "message/delivery-status" || p.MediaType == "message/global-delivery-status" {
			dsns = append(dsns, ParseDSN(p.Text()))
		}
	})
	var recips []DSNRecipient
	for _, d := range dsns {
		recips = append(recips, d.Recipients...)
	}
	// A DSN-like field block pasted into a plain body (some gateways).
	if len(recips) == 0 && bncDSNInTextRE.MatchString(notification) {
		recips = ParseDSN(notification).Recipients
	}
	// A plain-text bounce that quotes a whole DSN message below its prose
	// (forwarded by a relay): explain the quoted DSN, one level deep.
	if len(recips) == 0 && !strings.HasPrefix(root.MediaType, "multipart/") && !opt.embedded {
		if i := bncEmbeddedReportRE.FindIndex(root.Body); i != nil {
			start := bncHeaderBlockStart(root.Body, i[0])
			inner := opt
			inner.embedded = true
			if in := ExplainMessage(ParseMessage(bytes.TrimLeft(root.Body[start:], "\r\n"), DefaultLimits), inner); in.Kind == "dsn" {
				in.Subject, in.Sender = ex.Subject, ex.Sender
				return in
			}
		}
	}
	lines := strings.Split(notification, "\n")
	if len(recips) > 0 {
		ex.Kind = "dsn"
		var others []string
		for _, r := range recips {
			others = append(others, strings.ToLower(r.FinalRecipient))
		}
		for _, r := range recips {
			ex.Replies = append(ex.Replies, explainDSNRecipient(r, lines, others, opt))
		}
		return ex
	}
	for _, r := range bncBodyRecipients(root, lines) {
		er := r.explain(opt)
		// Some MTAs (mailing list managers, old gateways) put the reason
		// only in the Subject: try it when the body said nothing known.
		if (er.Reason == "undefined" || er.Cause == "bounce.reason-not-given") && ex.Subject != "" {
			withSubj := catalog.Explain(er.Stage, er.Code, er.EnhancedCode, pstCap(ex.Subject+". "+er.Reply, bncMaxExplain))
			if !bncFallback(withSubj) && withSubj.Reason != "undefined" {
				er.Explanation = withSubj
			}
		}
		ex.Replies = append(ex.Replies, er)
	}
	return ex
}

// bncHeaderBlockStart walks back from pos over the header lines (fields,
// continuations, an mbox "From " line) to where the header block starts.
func bncHeaderBlockStart(b []byte, pos int) int {
	start := pos
	for start > 0 {
		prev := bytes.LastIndexByte(b[:start-1], '\n') + 1
		line := bytes.TrimRight(b[prev:start-1], "\r")
		isField := false
		if k := bytes.IndexByte(line, ':'); k > 0 && mimeFieldName(line[:k]) {
			isField = true
		}
		if len(line) == 0 || !(isField || line[0] == ' ' || line[0] == '\t' || bytes.HasPrefix(line, []byte("From "))) {
			break
		}
		start = prev
		if bytes.HasPrefix(line, []byte("From ")) {
			break
		}
	}
	return start
}

var bncEmbeddedReportRE = lazyre.New(`(?im)^Content-Type:\s*multipart/report`)

var bncDSNInTextRE = lazyre.New(`(?im)^(?:Final-Recipient|Original-Recipient):\s*\S+;\s*\S+@`)

// explainDSNRecipient explains one per-recipient group, helped by the
// recipient's paragraph in the human-readable part.
func explainDSNRecipient(r DSNRecipient, lines []string, others []string, opt ExplainOptions) ExplainedReply {
	para := bncParagraph(lines, r.FinalRecipient, others)
	if para == "" && r.OriginalRecipient != "" {
		para = bncParagraph(lines, r.OriginalRecipient, others)
	}
	if para == "" && len(others) == 1 {
		// One recipient, not named in the prose (an alias or a pipe was
		// expanded): the whole notification speaks of it.
		para = strings.Join(lines, "\n")
	}
	diag := r.DiagnosticCode
	if diag == "" && r.StatusComment != "" && FindReply(para).Code == 0 {
		// "Status: 4.0.0 (cat.example.net: host name lookup failure)"
		diag = r.StatusComment
		para = ""
	}
	found := FindReply(diag)
	fromPara := FindReply(para)
	// The paragraph wins when the Diagnostic-Code is missing or carries no
	// reply code while the prose does.
	if strings.TrimSpace(diag) == "" || (found.Code == 0 && fromPara.Code != 0) {
		if para != "" {
			found = fromPara
		}
	}
	// Sendmail keeps only the first line of a multi-line reply in
	// Diagnostic-Code ("550-5.7.1 …"); the transcript has all of it.
	if found.Code != 0 && pstContinuedRE.MatchString(diag) {
		if full := bncFindFullReply(lines, diag); len(full.Text) > len(found.Text) && full.Code == found.Code {
			found = full
		}
	}
	if found.Code == 0 && len(others) == 1 {
		if whole := FindReply(strings.Join(lines, "\n")); whole.Code != 0 {
			found = whole
		}
	}
	if found.Stage == catalog.StageUnknown {
		found.Stage = fromPara.Stage
	}
	if found.Enhanced == "" || (strings.HasSuffix(found.Enhanced, ".0.0") && dsnStatusSpecific(r.Status)) {
		if dsnStatusOK(r.Status, found.Code) {
			found.Enhanced = r.Status
		}
	}
	er := ExplainReply(found, Delivery{Recipient: r.FinalRecipient, Source: "dsn", Action: r.Action, Status: r.Status,
		RemoteMTA: r.RemoteMTA}, opt)
	er.Entities = ExtractEntities(strings.Join([]string{r.RemoteMTA, found.Text}, "\n"))
	return er
}

var bncTranscriptStartRE = lazyre.New(`(?i)^\s*(?:\.\.\.\s*)?while talking to `)

var pstContinuedRE = lazyre.New(`^[245][0-9][0-9]-`)

// bncFindFullReply finds the transcript line that starts like the truncated
// reply and reads the whole reply from there.
func bncFindFullReply(lines []string, diag string) FoundReply {
	key := diag
	if len(key) > 60 {
		key = key[:60]
	}
	for pass := 0; pass < 2; pass++ {
		for i, l := range lines {
			// First the transcript's "<<<" lines, then any line.
			if (pass == 1 || strings.HasPrefix(strings.TrimSpace(l), "<<<")) && strings.Contains(l, key) {
				end := i + 1
				for end < len(lines) && end < i+40 && strings.HasPrefix(strings.TrimSpace(lines[end]), "<<<") {
					end++
				}
				if pass == 1 {
					end = min(len(lines), i+40)
				}
				return FindReply(strings.Join(lines[i:end], "\n"))
			}
		}
	}
	return FoundReply{}
}

// dsnStatusOK: the Status is a well-formed enhanced code whose class agrees
// with the basic code (when there is one).
func dsnStatusOK(status string, code int) bool {
	m := pstEnhancedRE.FindStringSubmatch(" " + status + " ")
	if m == nil || m[1] != status {
		return false
	}
	return code == 0 || status[0] == byte('0'+code/100)
}

func dsnStatusSpecific(status string) bool {
	return status != "" && !strings.HasSuffix(status, ".0.0")
}

// bncRecipient is one recipient found in a non-standard bounce body.
type bncRecipient struct {
	addr string
	para string
}

func (r bncRecipient) explain(opt ExplainOptions) ExplainedReply {
	found := FindReply(r.para)
	src := "bounce-body"
	switch {
	case strings.Contains(r.para, "SMTP error from remote mail server"):
		src = "exim"
	case strings.Contains(strings.ToLower(r.para), "remote server returned"):
		src = "exchange-ndr"
	}
	if found.Text == "" {
		found.Text = pstJoin(strings.Split(r.para, "\n"))
	}
	er := ExplainReply(found, Delivery{Recipient: r.addr, Source: src}, opt)
	er.Entities = ExtractEntities(found.Text)
	return er
}

// mayCut: every branch of bncCutRE names a message, a header, the
// original mail or a content type; lines without are not matched.
func mayCut(l string) bool {
	l = strings.ToLower(l)
	return strings.Contains(l, "message") || strings.Contains(l, "header") || strings.Contains(l, "original mail") || strings.Contains(l, "content-type")
}

// bncCutRE marks where the returned original message starts in a bounce body.
var bncCutRE = lazyre.New(`(?i)^\s*(?:original message follows\.?\s*$|original message:\s*$|original message headers:?\s*$|[-=_*]{2,}.*(?:original message|copy of (?:the|your) message|message header|returned message|undelivered message|unsent message|headers? of|message follows|original mail)|.*below this line is a copy of the message|content-type:\s*message/rfc822|-+\s*Original Message\s*-+)`)

var (
	bncRuleRE    = lazyre.New(`^\s*[-=_*]{10,}\s*$`)
	bncHdrLineRE = lazyre.New(`(?i)^(?:(Received|Return-Path|From|Date|Message-Id|To|Subject|X-[A-Za-z-]+):\s*\S|[ \t]+\S)`)
	// A trace field at the start of a line begins the returned message's
	// header (RFC 5322 §3.6.7) when another header line follows.
	bncTraceLineRE = lazyre.New(`(?i)^(Received|Return-Path):\s*\S`)
	bncTailAddrRE  = lazyre.New(`(?i)^\s*[a-z][^:<>@]{0,30} [^:<>@]{1,30}:\s*<?([a-z0-9!#$%&'*+/=?^_{|}~.-]{1,64}@[a-z0-9.-]{1,253}[a-z0-9])>?\.?\s*$`)
)

// bncHeaderFollows: the next non-empty line starts a header block (the
// copy of the returned message after a rule line).
func bncHeaderFollows(rest []string) bool {
	for _, l := range rest {
		if strings.TrimSpace(l) == "" {
			continue
		}
		return bncHdrLineRE.MatchString(l)
	}
	return false
}

// bncNotificationText is the human-readable notification: the text parts
// before the returned message, cut where the copy of the message starts.
func bncNotificationText(root *Part) string {
	var b strings.Builder
	var walk func(p *Part) bool
	walk = func(p *Part) bool { // false: stop (reached the returned message)
		switch {
		case strings.HasPrefix(p.MediaType, "multipart/"):
			if len(p.Children) == 0 {
				b.WriteString(mimeDecodeCharset(p.Params["charset"], p.Body))
				return true
			}
			alt := p.MediaType == "multipart/alternative"
			for _, c := range p.Children {
				if alt && c.MediaType != "text/plain" && hasPlain(p) {
					continue
				}
				if !walk(c) {
					return false
				}
				if alt {
					break
				}
			}
			return true
		case strings.HasPrefix(p.MediaType, "message/"), p.MediaType == "text/rfc822-headers":
			return p == root // the returned message: stop
		case p.MediaType == "text/html":
			b.WriteString(bncStripHTML(p.Text()))
			b.WriteByte('\n')
		case strings.HasPrefix(p.MediaType, "text/"):
			b.WriteString(p.Text())
			b.WriteByte('\n')
		}
		return true
	}
	walk(root)
	// Bounce prose is short; 128 KiB is far beyond any real notification.
	text := strings.ReplaceAll(pstCap(b.String(), bncMaxNotification), "\r", "")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if i == 0 {
			continue
		}
		if mayCut(l) && bncCutRE.MatchString(l) || (bncRuleRE.MatchString(l) && bncHeaderFollows(lines[i+1:])) ||
			(bncTraceLineRE.MatchString(l) && bncHeaderFollows(lines[i+1:])) {
			lines = lines[:i]
			break
		}
	}
	return strings.Join(lines, "\n")
}

func hasPlain(p *Part) bool {
	for _, c := range p.Children {
		if c.MediaType == "text/plain" {
			return true
		}
	}
	return false
}

var (
	bncTagRE    = lazyre.New(`(?s)<(?:script|style)[^>]*>.*?</(?:script|style)>|<br\s*/?>|</p>|</div>|</tr>|<[^>]{0,1000}>`)
	bncEntityRE = strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "&#39;", "'")
)

func bncStripHTML(s string) string {
	s = bncTagRE.ReplaceAllStringFunc(s, func(t string) string {
		lt := strings.ToLower(t)
		if strings.HasPrefix(lt, "<br") || strings.HasPrefix(lt, "</p") || strings.HasPrefix(lt, "</div") || strings.HasPrefix(lt, "</tr") {
			return "\n"
		}
		return " "
	})
	return bncEntityRE.Replace(s)
}

func bncTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

var (
	// An address at the start of a line, alone or followed by the MTA's
	// separator: "<a@b>:", "a@b ...", "  a@b", "Recipient: a@b".
	bncRecipientLineRE = lazyre.New(`(?i)^\s*(?:[245][0-9][0-9][ -](?:[245]\.[0-9]{1,3}\.[0-9]{1,3} )?)?(?:(?:original |final |failed |unknown |invalid )?(?:recipient|address|user|to|e-?mail|mailbox)(?:\s+address)?(?:\(s\))?\s*:?\s*)?["'<(]?([a-z0-9!#$%&'*+/=?^_{|}~.-]{1,64}@[a-z0-9.-]{1,253}[a-z0-9])[>"')]?\s*(?::|\.\.\.|\(|,|-|\son\s|$)`)
)

// bncBodyRecipients finds the recipients of a non-standard bounce and the
// paragraph that speaks of each.
func bncBodyRecipients(root *Part, lines []string) []bncRecipient {
	exclude := map[string]bool{}
	for _, h := range []string{"To", "From", "Return-Path", "Reply-To", "Sender"} {
		if a := strings.ToLower(dsnAddress(root.Header.Get(h))); a != "" {
			exclude[a] = true
		}
	}
	var order []string
	seen := map[string]bool{}
	add := func(a string) {
		a = strings.ToLower(strings.Trim(a, "."))
		if a == "" || seen[a] || exclude[a] || len(order) >= 100 {
			return
		}
		seen[a] = true
		order = append(order, a)
	}
	for _, v := range root.Header.Values("X-Failed-Recipients") {
		for _, a := range strings.Split(v, ",") {
			add(dsnAddress(a))
		}
	}
	explicit := len(order) > 0
	if !explicit {
		for _, l := range lines {
			if strings.IndexByte(l, '@') < 0 {
				continue // both expressions need an address
			}
			m := bncRecipientLineRE.FindStringSubmatch(l)
			if m == nil {
				// "Did not reach the following recipient: a@b",
				// "Invalid final delivery userid: a@b".
				m = bncTailAddrRE.FindStringSubmatch(l)
			}
			if m != nil {
				if bncServiceAddr(m[1]) {
					continue
				}
				add(m[1])
			}
		}
	}
	if len(order) == 0 {
		return []bncRecipient{{para: strings.Join(lines, "\n")}}
	}
	var out []bncRecipient
	for _, a := range order {
		p := bncParagraph(lines, a, order)
		if p == "" {
			p = strings.Join(lines, "\n")
		}
		out = append(out, bncRecipient{addr: a, para: p})
	}
	return out
}

// bncSaysSomething: the paragraph holds a reply code or some words
// besides the address itself.
func bncSaysSomething(p, addr string) bool {
	if f := FindReply(p); f.Code != 0 {
		return true
	}
	if strings.Contains(p, "RCPT TO:") || strings.Contains(p, "RCPT To:") {
		return false // a summary of the envelope; the reason is above it
	}
	rest := strings.ReplaceAll(strings.ToLower(p), addr, "")
	letters := 0
	for _, c := range rest {
		if c >= 'a' && c <= 'z' || c > 0x7f {
			letters++
		}
	}
	return letters >= 12
}

// bncServiceAddr: addresses bounces name that are not recipients.
func bncServiceAddr(a string) bool {
	l := strings.ToLower(a)
	for _, p := range []string{"mailer-daemon@", "postmaster@", "support@", "abuse@", "help@", "noreply@", "no-reply@", "helpdesk@"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// bncParagraph returns the lines that speak of addr: from the line that
// names it up to the line that names another recipient. When that
// paragraph holds no reply code (Sendmail lists the addresses first and the
// transcript later), a later mention is tried, and then the text after the
// first mention.
func bncParagraph(lines []string, addr string, others []string) string {
	if addr == "" {
		return ""
	}
	la := strings.ToLower(addr)
	lower := make([]string, len(lines))
	var starts []int
	for i, l := range lines {
		lower[i] = strings.ToLower(l)
		if strings.Contains(lower[i], la) && len(starts) < 5 {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return ""
	}
	isOther := func(i int) bool {
		ll := lower[i]
		if !strings.Contains(ll, "@") || strings.Contains(ll, la) {
			return false
		}
		for _, o := range others {
			if o != "" && o != la && strings.Contains(ll, o) {
				return true
			}
		}
		return false
	}
	var best string
	for n, s := range starts {
		end := min(len(lines), s+bncMaxParagraph)
		// Sendmail lists one reply line per recipient ("554 <a@b>... Host
		// unknown") and then the next host's transcript: a paragraph that
		// starts with a reply ends at the next reply line or transcript.
		replyFirst := pstReplyStartRE.MatchString(strings.TrimSpace(lines[s]))
		for j := s + 1; j < end; j++ {
			if isOther(j) || bncTranscriptStartRE.MatchString(lines[j]) ||
				(replyFirst && pstReplyStartRE.MatchString(lines[j]) && !pstContinuedRE.MatchString(lines[j-1])) {
				end = j
				break
			}
		}
		p := strings.Join(lines[s:end], "\n")
		if !bncSaysSomething(p, la) {
			// Some MTAs give the reason first and the address after it
			// ("The user(s) account is disabled.\n<a@b>"): take the lines
			// before, back to another recipient.
			b := s
			for b > 0 && s-b < 8 && !isOther(b-1) {
				b--
			}
			p = strings.Join(lines[b:end], "\n")
		}
		if n == 0 {
			best = p
		}
		if f := FindReply(p); f.Code != 0 || f.Enhanced != "" {
			return p
		}
	}
	return best
}

// DetailLines shows the explained reply under its section in text output.
func (r ExplainedReply) DetailLines() []string {
	var out []string
	code := "-"
	if r.Code != 0 {
		code = fmt.Sprint(r.Code)
	}
	enh := r.EnhancedCode
	if enh == "" {
		enh = "-"
	}
	out = append(out, fmt.Sprintf("stage %s, code %s, enhanced %s → reason %s, cause %s, to act: %s", r.Stage, code, enh, r.Reason, r.Cause, r.ActionBy))
	if r.EnhancedName != "" {
		out = append(out, "enhanced code "+enh+": "+r.EnhancedName)
	}
	if r.Action != "" || r.Status != "" || r.RemoteMTA != "" {
		out = append(out, strings.TrimSpace(fmt.Sprintf("DSN: action %s, status %s, remote MTA %s", bncOrDash(r.Action), bncOrDash(r.Status), bncOrDash(r.RemoteMTA))))
	}
	if r.FeedbackType != "" {
		out = append(out, "feedback type: "+r.FeedbackType)
	}
	return out
}

func bncOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// MarshalJSON writes the reply with every field of the explain schema
// present, "enhanced_code" included ("" when the reply has none), so that
// consumers need not test for missing keys.
func (r ExplainedReply) MarshalJSON() ([]byte, error) {
	type plain ExplainedReply
	b, err := json.Marshal(plain(r))
	if err != nil || r.EnhancedCode != "" {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["enhanced_code"] = json.RawMessage(`""`)
	return json.Marshal(m)
}
