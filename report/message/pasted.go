package message

// What users paste into `mxray explain`: a reply line, a multi-line reply,
// an MTA's error text or log line, an NDR, or a whole bounce message. This
// file finds the SMTP replies in free text — their basic code (RFC 5321
// §4.2), enhanced code (RFC 3463), text and the stage at which they were
// given — and the names the text mentions (IP addresses, blocklist zones,
// domains, mail addresses) for the live follow-up.
//
// The stage is read from the wording each MTA uses to say which command a
// reply answered:
//
//	Postfix   "… (in reply to RCPT TO command)"                      (smtp(8) bounce text and logs)
//	Exim      "SMTP error from remote mail server after RCPT TO:<a>:" (exim's bounce text)
//	Sendmail  ">>> RCPT To:<a>" / "<<< 550 …"                         (the session transcript)
//	qmail     "Connected to 192.0.2.1 but sender was rejected."       (qmail-remote)
//
// and a --stage given by the user overrides them.

import (
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/catalog"
)

// FoundReply is one SMTP reply found in text.
type FoundReply struct {
	Code     int           // basic code, 0 when the text has none
	Enhanced string        // enhanced status code, "" when none
	Text     string        // the reply text from the code on, lines joined
	Stage    catalog.Stage // StageUnknown when the text does not say
}

// pstReplyRE finds a basic reply code where a reply starts: at the start of a
// line, or after the punctuation and phrases MTAs put before a quoted reply
// ("said: ", "returned '", "<<< ", "smtp;", "#").
// It runs on the line with its ASCII letters lowered (same offsets).
var pstReplyRE = lazyre.New(`(?:^|[:;'"#(\[<>=]|said|returned|error|error_code|responsecode|reply code|code)[ \t]*([245][0-9][0-9])(?:[ \t-]+|:[ \t]|,|$)(?:#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$))?`)

// pstInlineReplyRE finds a reply quoted mid-sentence, recognisable because
// an enhanced code follows the basic code ("220-laposte 421 4.2.1 Service refuse").
var pstInlineReplyRE = lazyre.New(`(?:^|\s)([245])([0-9][0-9])[ -]#?(([245])\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)`)

var pstNestedRE = lazyre.New(`^[245][0-9][0-9][ -](?:[245]\.[0-9]{1,3}\.[0-9]{1,3} )?\S*@\S*\.\.\.\s*([245][0-9][0-9])(?:[ -]([245]\.[0-9]{1,3}\.[0-9]{1,3}))?\b`)

// pstEnhancedRE finds an enhanced status code (RFC 3463 §2: class.subject.detail)
// that is not part of an IP address or version number.
var pstEnhancedRE = lazyre.New(`(?:^|[^0-9A-Za-z.])#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)`)

// pstStageREs map the MTAs' "which command" phrases to a stage. The first
// capture group is the command. They run on text with its ASCII letters
// lowered; each comes with a literal its matches contain, tested before the
// expression is run.
var pstStageREs = []struct {
	re  *lazyre.Regexp
	lit string
}{
	{lazyre.New(`in reply to (?:the )?(rcpt to|mail from|end of data|data|helo|ehlo|starttls|auth|quit|rset|bdat)\b`), "in reply to"},
	{lazyre.New(`(?:smtp error|error) from remote mail server after (?:pipelined )?(rcpt to|mail from|end of data|data|initial connection|helo|ehlo|starttls|auth|sending data block|quit)`), "remote mail server after"},
	{lazyre.New(`^\s*>>>\s*(rcpt|mail|data|helo|ehlo|starttls|auth|quit|rset|\.)`), ">>>"},
	{lazyre.New(`\bafter (rcpt to|mail from|end of data|data|helo|ehlo|starttls|initial connection)\b`), "after "},
	{lazyre.New(`while (?:talking|sending) (?:to [^ ]+ )?(?:in response to )?(rcpt to|mail from|data|end of data|helo|ehlo)`), "while "},
	{lazyre.New(`\b(rcpt to|mail from|data) command (?:failed|rejected|returned)`), " command "},
	{lazyre.New(`smtp (?:command|error)[^.\n]{0,20}\b(rcpt|mail|data|helo|ehlo)\b`), "smtp "},
}

// pstTranscriptCommand is the transcript's ">>> COMMAND" line.
var pstTranscriptCommand = pstStageREs[2].re

// qmail-remote names the stage in prose.
var pstQmailStage = []struct {
	re    *lazyre.Regexp
	lit   string // a literal its matches contain; "|" separates alternatives
	stage catalog.Stage
}{
	{lazyre.New(`(?i)but sender was rejected`), "sender was rejected", catalog.StageMAIL},
	{lazyre.New(`(?i)but my name was rejected`), "name was rejected", catalog.StageEHLO},
	{lazyre.New(`(?i)but greeting failed`), "greeting failed", catalog.StageConnect},
	{lazyre.New(`(?i)but (?:it|the remote host) (?:didn't|did not) (?:like|accept) (?:the )?(?:recipient|user)`), "but ", catalog.StageRCPT},
	{lazyre.New(`(?i)\bdoes not like recipient\b`), "does not like recipient", catalog.StageRCPT}, // qmail-remote: "192.0.2.1 does not like recipient."
	{lazyre.New(`(?i)Failed after I sent the message`), "failed after i sent", catalog.StageDATA},
	{lazyre.New(`(?i)(?:refused to talk to me|connection refused at connect|on connect|banner|greeting)\b`), "refused to talk to me|connection refused at connect|on connect|banner|greeting", catalog.StageConnect},
}

// StageFromText reads the stage an MTA's text names, or StageUnknown.
func StageFromText(text string) catalog.Stage {
	// The phrases may be wrapped over lines ("(in reply to\n RCPT TO
	// command)"): match them on the joined text, except the transcript's
	// ">>> COMMAND", which is a line of its own.
	text = catalog.ASCIILower(pstCap(text, 64<<10))
	lower := catalog.CollapseSpace(text)
	for i, x := range pstStageREs {
		if !strings.Contains(lower, x.lit) {
			continue
		}
		if i == 2 {
			for _, line := range strings.Split(text, "\n") {
				if m := x.re.FindStringSubmatch(line); m != nil {
					return stageOfCommand(m[1])
				}
			}
			continue
		}
		if m := x.re.FindStringSubmatch(lower); m != nil {
			return stageOfCommand(m[1])
		}
	}
	for _, q := range pstQmailStage {
		if !containsAny(lower, q.lit) {
			continue
		}
		if q.re.MatchString(text) {
			return q.stage
		}
	}
	return catalog.StageUnknown
}

// containsAny: s contains one of the "|"-separated literals.
func containsAny(s, lits string) bool {
	for _, l := range strings.Split(lits, "|") {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

// stageOfCommand maps an SMTP command name (or MTA phrase) to its Stage.
func stageOfCommand(cmd string) catalog.Stage {
	c := strings.ToUpper(strings.TrimSpace(cmd))
	switch {
	case strings.HasPrefix(c, "RCPT"):
		return catalog.StageRCPT
	case strings.HasPrefix(c, "MAIL"):
		return catalog.StageMAIL
	case strings.HasPrefix(c, "EHLO"), strings.HasPrefix(c, "HELO"):
		return catalog.StageEHLO
	case c == "DATA", c == "END OF DATA", c == ".", c == "BDAT", strings.HasPrefix(c, "SENDING DATA"):
		return catalog.StageDATA
	case c == "STARTTLS":
		return catalog.StageSTARTTLS
	case c == "AUTH":
		return catalog.StageAUTH
	case c == "QUIT":
		return catalog.StageQUIT
	case c == "RSET":
		return catalog.StageRSET
	case c == "INITIAL CONNECTION", c == "CONNECT":
		return catalog.StageConnect
	}
	return catalog.StageUnknown
}

// ParseStage accepts the names of --stage (and SMTP command names).
func ParseStage(s string) (catalog.Stage, bool) {
	switch st := catalog.Stage(strings.ToLower(strings.TrimSpace(s))); st {
	case catalog.StageConnect, catalog.StageEHLO, catalog.StageSTARTTLS, catalog.StageAUTH, catalog.StageMAIL, catalog.StageRCPT, catalog.StageDATA, catalog.StageVRFY, catalog.StageRSET, catalog.StageQUIT, catalog.StageUnknown:
		return st, true
	case "helo":
		return catalog.StageEHLO, true
	case "banner", "greeting":
		return catalog.StageConnect, true
	}
	if st := stageOfCommand(s); st != catalog.StageUnknown {
		return st, true
	}
	return catalog.StageUnknown, false
}

// FindReply finds the significant SMTP reply in a piece of text: the first
// reply with a 4xx/5xx code (a transcript's earlier 250s are context), else
// the first reply, else an enhanced code alone, else just the text. The
// stage is the last command the text names before that reply, or the
// phrase it uses anywhere ("in reply to RCPT TO command").
func FindReply(text string) FoundReply {
	if r, ok := findReplyMemo.get(text); ok {
		return r
	}
	r := findReply(text)
	findReplyMemo.put(text, r)
	return r
}

func findReply(text string) FoundReply {
	text = strings.ReplaceAll(pstCap(text, pstMaxText), "\r", "")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = pstCap(l, pstMaxLine)
	}
	type hit struct {
		line, col int
		code      int
		enh       string
	}
	var first, firstBad *hit
	for i, l := range lines {
		if !hasCodeCandidate(l) {
			continue
		}
		ms := pstReplyRE.FindAllStringSubmatchIndex(catalog.ASCIILower(l), -1)
		for _, m := range pstInlineReplyRE.FindAllStringSubmatchIndex(l, -1) {
			if l[m[2]:m[3]] == l[m[8]:m[9]] { // same class: a real reply
				ms = append(ms, []int{m[0], m[1], m[2], m[5], m[6], m[7]})
			}
		}
		sort.Slice(ms, func(a, b int) bool { return ms[a][2] < ms[b][2] })
		for _, m := range ms {
			code, _ := strconv.Atoi(l[m[2]:m[3]])
			h := &hit{line: i, col: m[2], code: code}
			if m[4] >= 0 {
				h.enh = l[m[4]:m[5]]
			}
			if first == nil {
				first = h
			}
			if code >= 400 && firstBad == nil {
				firstBad = h
			}
		}
		if firstBad != nil {
			break
		}
	}
	r := FoundReply{Stage: catalog.StageUnknown}
	pick := firstBad
	if pick == nil {
		pick = first
	}
	if pick != nil {
		r.Code, r.Enhanced = pick.code, pick.enh
		first := lines[pick.line][pick.col:]
		rest := []string{first}
		if pick.col > 0 && strings.HasSuffix(strings.TrimRight(lines[pick.line][:pick.col], " "), "'") {
			// Exchange quotes the reply: "Remote Server returned '550 …'".
			// The reply ends at the closing quote.
			if k := strings.LastIndexByte(first, '\''); k > 0 {
				first = first[:k]
			}
			rest = []string{first}
		} else {
			for _, l := range lines[pick.line+1:] {
				// Transcript continuation lines: "<<< 550-5.7.1 more text".
				rest = append(rest, pstTranscriptRE.ReplaceAllString(l, ""))
			}
		}
		r.Text = pstJoin(rest)
		// A command line (">>> RCPT To:") before the reply names its stage.
		for i := pick.line; i >= 0; i-- {
			if m := pstTranscriptCommand.FindStringSubmatch(catalog.ASCIILower(lines[i])); m != nil {
				r.Stage = stageOfCommand(m[1])
				break
			}
		}
	} else {
		r.Text = pstJoin(lines)
	}
	// Sendmail quotes the remote reply after its own: "554 <a@b>... 550 Host
	// unknown". The inner reply is the remote server's.
	if m := pstNestedRE.FindStringSubmatch(r.Text); m != nil {
		r.Code, _ = strconv.Atoi(m[1])
		r.Enhanced = m[2]
	}
	if r.Enhanced == "" {
		if m := pstEnhancedRE.FindStringSubmatch(r.Text); m != nil {
			r.Enhanced = m[1]
		} else if m := pstEnhancedRE.FindStringSubmatch(text); m != nil {
			r.Enhanced = m[1]
		}
	}
	// An enhanced code of another class than the basic code is not its own
	// (RFC 3463 §2: the class must agree); keep the basic code's word.
	if r.Code != 0 && r.Enhanced != "" && r.Enhanced[0] != byte('0'+r.Code/100) {
		r.Enhanced = ""
	}
	if r.Stage == catalog.StageUnknown {
		r.Stage = StageFromText(text)
	}
	if r.Code != 0 {
		r.Text = pstStripInnerCodes(r.Text, r.Code)
	}
	return r
}

// hasCodeCandidate: the line has three digits in a row, the first 2, 4 or
// 5 — the least a reply code needs; lines without are not searched.
func hasCodeCandidate(l string) bool {
	for i := 0; i+2 < len(l); i++ {
		if (l[i] == '2' || l[i] == '4' || l[i] == '5') && isDigitByte(l[i+1]) && isDigitByte(l[i+2]) {
			return true
		}
	}
	return false
}

// findReplyMemo remembers the replies found in one input (ExplainInput
// resets it): the bounce readers ask for the same paragraph's reply several
// times. Texts over 16 KiB are not kept, and the memo is dropped when full.
var findReplyMemo = &replyMemo{m: map[string]FoundReply{}}

type replyMemo struct {
	mu sync.Mutex
	m  map[string]FoundReply
}

func (m *replyMemo) get(text string) (FoundReply, bool) {
	if len(text) > 16<<10 {
		return FoundReply{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.m[text]
	return r, ok
}

func (m *replyMemo) reset() {
	m.mu.Lock()
	m.m = map[string]FoundReply{}
	m.mu.Unlock()
}

func (m *replyMemo) put(text string, r FoundReply) {
	if len(text) > 16<<10 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= 256 {
		m.m = map[string]FoundReply{}
	}
	m.m[text] = r
}

var pstInnerCodeREs sync.Map // code -> *lazyre.Regexp

func pstInnerCodeRE(code string) *regexp.Regexp {
	if re, ok := pstInnerCodeREs.Load(code); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(`\s` + code + `[ -](?:#?[245]\.[0-9]{1,3}\.[0-9]{1,3}\s)?`)
	pstInnerCodeREs.Store(code, re)
	return re
}

// pstStripInnerCodes removes the reply-code prefixes of continuation lines
// that a relaying MTA folded into one line ("550-5.7.1 Messages with
// multiple 550-5.7.1 addresses …"): they split the text's words and are
// not part of what the server said (RFC 5321 §4.2.1 multiline replies).
func pstStripInnerCodes(text string, code int) string {
	c := strconv.Itoa(code)
	if !strings.Contains(text[min(len(text), 4):], c) {
		return text
	}
	re := pstInnerCodeRE(c)
	head := text[:min(len(text), 4)]
	return head + re.ReplaceAllString(text[len(head):], " ")
}

// Replies are short; the bounds keep hostile input cheap.
const (
	pstMaxLine = 4 << 10   // bytes of one line searched for a reply
	pstMaxText = 256 << 10 // bytes of one text searched for a reply
)

// pstCap cuts s to at most n bytes, at a UTF-8 boundary.
func pstCap(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

var pstTranscriptRE = lazyre.New(`^\s*<<<\s*`)

// pstJoin joins lines with single spaces and drops the Postfix "(in reply
// to … command)" trailer, which is about the stage, not the reply.
func pstJoin(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		l = strings.TrimSpace(pstCap(l, pstMaxLine))
		if l == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l)
		if b.Len() > 8192 { // a reply is short; the rest is the bounced message
			break
		}
	}
	s := b.String()
	if strings.Contains(catalog.ASCIILower(s), "in reply to") {
		s = pstInReplyRE.ReplaceAllString(s, "")
	}
	return strings.TrimSpace(catalog.CollapseSpace(s))
}

var pstInReplyRE = lazyre.New(`(?i)\s*\(in reply to [^)]*command\)`)

// Entities are the names a text mentions, for the live follow-up.
type Entities struct {
	IPs       []string `json:"ips,omitempty"`
	Zones     []string `json:"zones,omitempty"` // names that look like DNS blocklist zones
	Domains   []string `json:"domains,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
}

var (
	// The next three run on the text with its ASCII letters lowered (same
	// offsets), without case folding: they only name ASCII letters.
	pstIPv6RE = lazyre.New(`(?:ipv6:)?\b([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})\b`)

	// Words by which blocklist zones are recognised; the follow-up confirms
	// a zone against the blocklist catalog before querying it.
	pstZoneWords = []string{"spamhaus", "spamcop", "barracuda", "sorbs", "uceprotect", "dnsbl", "rbl", "blocklist", "blacklist", "surbl", "uribl", "mailspike",
		"psbl", "abuseat", "cbl", "spameatingmonkey", "backscatterer", "0spam", "senderscore", "s5h", "manitu", "junkemailfilter", "nordspam",
		"invaluement", "lashback", "sbl", "xbl", "pbl", "dbl", "zen"}
)

// ExtractEntities finds the IP addresses, blocklist zones, domains and
// addresses in a text, each once, in order of appearance.
func ExtractEntities(text string) Entities {
	text = pstCap(text, pstMaxText)
	// ASCII letters lowered, every offset kept; the runes that fold to an
	// ASCII letter (the Kelvin sign, the long s) are lowered too, as the
	// case-insensitive expressions read them.
	lower := strings.NewReplacer("\u212a", "k", "\u017f", "s").Replace(text)
	if len(lower) != len(text) {
		text = lower // the two runes are longer than their letters: read the replaced text
	}
	lower = catalog.ASCIILower(lower)
	var e Entities
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if v == "" || seen[kind+v] || len(*list) >= 64 {
			return
		}
		seen[kind+v] = true
		*list = append(*list, v)
	}
	for _, ip := range findIPv4s(text) {
		if a, err := netip.ParseAddr(ip); err == nil {
			add(&e.IPs, "ip", a.String())
		}
	}
	if strings.Contains(text, "::") || strings.Count(text, ":") >= 7 {
		for _, m := range pstIPv6RE.FindAllStringSubmatch(lower, -1) {
			if strings.Count(m[1], ":") < 2 {
				continue
			}
			if a, err := netip.ParseAddr(m[1]); err == nil && a.Is6() {
				add(&e.IPs, "ip", a.String())
			}
		}
	}
	addrSpans := findAddresses(lower)
	for _, s := range addrSpans {
		add(&e.Addresses, "addr", strings.ToLower(strings.Trim(text[s[0]:s[1]], ".")))
	}
	inAddr := func(i int) bool {
		for _, s := range addrSpans {
			if i >= s[0] && i < s[1] {
				return true
			}
		}
		return false
	}
	for _, m := range findDomains(lower) {
		d := lower[m[2]:m[3]]
		if _, err := netip.ParseAddr(d); err == nil {
			continue
		}
		if pstNotDomain(d) {
			continue
		}
		// A name inside a URL ("https://www.spamhaus.org/query/...") is a
		// web site, not a list zone to query.
		inURL := strings.HasSuffix(text[:m[2]], "://") || strings.HasPrefix(d, "www.")
		if namesZone(d) && strings.Count(d, ".") >= 1 && !inURL {
			add(&e.Zones, "zone", d)
		}
		if !inAddr(m[2]) {
			add(&e.Domains, "domain", d)
		}
	}
	for _, a := range e.Addresses {
		_, d, _ := strings.Cut(a, "@")
		add(&e.Domains, "domain", d)
	}
	return e
}

// findDomains finds the host names in lower-case text: one or more labels
// (RFC 1035 §2.3.1 letters, digits and hyphens, and the underscore of
// service names; 1-63 octets, starting and ending with a letter or digit),
// each followed by a dot, then a top-level label of 2-24 letters, between
// word boundaries. It is the expression
//
//	\b((?:[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})\b
//
// read left to right without backtracking (TestFindDomainsIsTheExpression),
// which costs the regular expression engine dearly on long texts. The
// result has the shape of FindAllStringSubmatchIndex: [start end start end].
func findDomains(s string) [][]int {
	var out [][]int
	for i := 0; i < len(s); {
		if !isLabelStart(s, i) {
			i++
			continue
		}
		if end := domainAt(s, i); end > i {
			out = append(out, []int{i, end, i, end})
			i = end
			continue
		}
		i++
	}
	return out
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isAlnumLower(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// isLabelStart: a word boundary before s[i], and s[i] starts a label.
func isLabelStart(s string, i int) bool {
	return isAlnumLower(s[i]) && (i == 0 || !isWordByte(s[i-1]))
}

// domainAt returns the end of the name starting at i, or i.
func domainAt(s string, i int) int {
	// The labels followed by a dot, each as the expression's greedy
	// label: the whole run up to the dot.
	var dots []int // position after each label's dot
	for p := i; ; {
		q := p
		for q < len(s) && (isAlnumLower(s[q]) || s[q] == '-' || s[q] == '_') {
			q++
		}
		if q == p || q-p > 63 || q >= len(s) || s[q] != '.' || !isAlnumLower(s[p]) || !isAlnumLower(s[q-1]) {
			break
		}
		dots = append(dots, q+1)
		p = q + 1
	}
	// Then the top-level label after as many labels as possible.
	for j := len(dots) - 1; j >= 0; j-- {
		p := dots[j]
		q := p
		for q < len(s) && 'a' <= s[q] && s[q] <= 'z' {
			q++
		}
		if n := q - p; n >= 2 && n <= 24 && (q == len(s) || !isWordByte(s[q])) {
			return q
		}
	}
	return i
}

// namesZone: the (lower-case) name holds a word blocklist zones are named by.
func namesZone(d string) bool {
	for _, w := range pstZoneWords {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

// findIPv4s finds the dotted-quad IPv4 addresses of a text (RFC 4001
// §3: four decimal octets 0-255 without leading zeros): each run of digits
// and dots that is one, final dots (a sentence's end) aside. A longer run
// (a version number "4.16.55.1.2") is not an address.
func findIPv4s(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isDigitByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isDigitByte(s[j]) || s[j] == '.') {
			j++
		}
		if i > 0 && s[i-1] == '.' {
			i = j
			continue // the run began with a dot: not a start
		}
		if run := strings.TrimRight(s[i:j], "."); isDottedQuad(run) {
			out = append(out, run)
		}
		i = j
	}
	return out
}

func isDottedQuad(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if len(p) == 0 || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		n := 0
		for k := 0; k < len(p); k++ {
			n = n*10 + int(p[k]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

// findAddresses finds mail addresses in lower-case text: up to 64 local
// part characters (RFC 5322 §3.2.3 atext and dots) before an "@", then a
// domain of at least two labels (letters, digits, hyphens; starting and
// ending with a letter or digit). It is the expression
//
//	[a-z0-9!#$%&'*+/=?^_{|}~.-]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)
//
// read without backtracking (TestFindAddressesIsTheExpression).
func findAddresses(s string) [][]int {
	var out [][]int
	from := 0
	for {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			return out
		}
		at := from + k
		start := at
		for start > from && at-start < 64 && isAtext(s[start-1]) {
			start--
		}
		end := addrDomainEnd(s, at+1)
		if start == at || end < 0 {
			from = at + 1
			continue
		}
		out = append(out, []int{start, end})
		from = end
	}
}

func isAtext(c byte) bool {
	return isAlnumLower(c) || strings.IndexByte("!#$%&'*+/=?^_{|}~.-", c) >= 0
}

// addrDomainEnd returns the end of the address's domain starting at p
// (at least two labels), or -1.
func addrDomainEnd(s string, p int) int {
	end, labels := -1, 0
	for {
		q := p
		for q < len(s) && (isAlnumLower(s[q]) || s[q] == '-') {
			q++
		}
		l := s[p:q]
		if len(l) == 0 || !isAlnumLower(l[0]) {
			break
		}
		for len(l) > 0 && !isAlnumLower(l[len(l)-1]) {
			l = l[:len(l)-1] // a label ends with a letter or digit
		}
		if len(l) > 63 {
			break
		}
		labels++
		if labels >= 2 {
			end = p + len(l)
		}
		if p+len(l) != q || q >= len(s) || s[q] != '.' {
			break
		}
		p = q + 1
	}
	return end
}

// pstNotDomain drops dotted words that are not host names: file names,
// enhanced codes with letters, Exchange diagnostic tokens.
func pstNotDomain(d string) bool {
	tld := d[strings.LastIndexByte(d, '.')+1:]
	switch tld {
	case "html", "htm", "php", "asp", "aspx", "txt", "eml", "exe", "zip", "pdf", "jpg", "png", "gif", "doc", "cgi", "jsp":
		return true
	}
	up := strings.ToUpper(d)
	for _, p := range []string{"RESOLVER.", "SMTPSEND.", "STOREDRV.", "QUEUE.", "ROUTING.", "CAT.", "AV.", "DSN."} {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}

// ExplainText explains pasted text that is not a whole message: an MTA's
// bounce text listing recipients (one reply per recipient), pasted
// delivery-status fields, or one reply (single or multi-line). Mail logs
// are read by report/maillog, line by line.
func ExplainText(text string, opt ExplainOptions) *Explained {
	text = strings.ReplaceAll(text, "\r", "")
	ex := &Explained{Kind: "reply"}
	lines := strings.Split(text, "\n")
	// Pasted delivery-status fields (the DSN part of a bounce, RFC 3464).
	if bncDSNInTextRE.MatchString(text) {
		if d := ParseDSN(text); len(d.Recipients) > 0 {
			ex.Kind = "dsn"
			var others []string
			for _, r := range d.Recipients {
				others = append(others, strings.ToLower(r.FinalRecipient))
			}
			for _, r := range d.Recipients {
				ex.Replies = append(ex.Replies, explainDSNRecipient(r, lines, others, opt))
			}
			return ex
		}
	}
	startsWithReply := pstReplyStartRE.MatchString(strings.TrimSpace(text))
	ropt := opt
	ropt.loneReply = startsWithReply
	for _, r := range bncBodyRecipients(&Part{}, lines) {
		er := r.explain(ropt)
		if er.Source == "bounce-body" {
			er.Source = "text"
			if startsWithReply {
				er.Source = "reply"
			}
		}
		ex.Replies = append(ex.Replies, er)
	}
	if len(ex.Replies) > 1 || (len(ex.Replies) == 1 && !startsWithReply && ex.Replies[0].Recipient != "") {
		ex.Kind = "bounce-text"
	}
	return ex
}

var pstReplyStartRE = lazyre.New(`^[245][0-9][0-9](?:[ -]|$)`)
