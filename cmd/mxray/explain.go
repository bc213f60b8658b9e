package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/mxray/mxray/report/maillog"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/report/message"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "explain", order: 60, summary: "a pasted reply, log line, NDR or whole bounce mapped to its cause, stage and fix",
		usage: "mxray explain [TEXT|FILE|-] [--offline] [--stage S] [flags]", run: runExplain})
}

// explainInput is the Detail of the first section: what the input was.
type explainInput struct {
	Source   string           `json:"source"` // "argument", "stdin" or the file name
	Kind     string           `json:"kind"`   // reply, log, bounce-text, bounce, dsn, feedback, auto-reply
	Subject  string           `json:"subject,omitempty"`
	Replies  int              `json:"replies"`
	Entities message.Entities `json:"entities"`
	Notes    []string         `json:"notes,omitempty"`
	Offline  bool             `json:"offline"`
}

func (e explainInput) DetailLines() []string {
	out := []string{fmt.Sprintf("input: %s (%s), %d explained %s", e.Source, e.Kind, e.Replies, explainPlural(e.Replies, "reply", "replies"))}
	if e.Subject != "" {
		out = append(out, "subject: "+e.Subject)
	}
	if len(e.Entities.IPs) > 0 {
		out = append(out, "IP addresses: "+strings.Join(e.Entities.IPs, ", "))
	}
	if len(e.Entities.Zones) > 0 {
		out = append(out, "blocklist zones: "+strings.Join(e.Entities.Zones, ", "))
	}
	out = append(out, e.Notes...)
	return out
}

func explainPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// explainFlags are explain's own flags, checked.
type explainFlags struct {
	g       *globalFlags
	offline bool
	sender  string
	ip      netip.Addr
	opt     message.ExplainOptions
}

func runExplain(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("explain", stdio, "mxray explain [TEXT|FILE|-] [--offline] [--stage S] [flags]",
		"Explains what a mail server said: a reply line (\"550 5.7.26 …\"), a multi-line reply, an Exchange NDR, a\n"+
			"whole bounce message (RFC 3464 DSN, non-standard bounce bodies, ARF feedback reports, auto-replies), or a\n"+
			"mail log (Postfix, Exim, Sendmail; syslog or journalctl output), given as TEXT, a FILE or on stdin (-).\n"+
			"Each reply (each recipient of a bounce) gets its stage, codes, reason class, cause, who must act and the\n"+
			"fix. A log is read as a stream: every refused, deferred or bounced recipient is one event, and the events\n"+
			"are grouped by cause (--format json lists every event too).\n"+
			"Unless --offline, what the text names is checked now: a blocklist zone and an IP (listed now?), an\n"+
			"SPF/DKIM/DMARC failure (the sender domain's SPF and DMARC now), a missing PTR (reverse DNS now); the\n"+
			"headline then says what is true now.")
	g := addGlobalFlags(fs)
	offline := fs.Bool("offline", false, "do not run the live follow-up checks (no DNS queries): read the text alone")
	stageFlag := fs.String("stage", "", "the SMTP stage the reply answered, when the text does not say: connect, ehlo, starttls, auth, mail, rcpt, data")
	senderFlag := fs.String("sender", "", "the sender address of the bounced message, for the SPF/DMARC follow-up (default: the bounce's recipient)")
	ipFlag := fs.String("ip", "", "the sending IP address, for the blocklist/SPF/PTR follow-up (default: the IP the text names)")
	if code, done := parseFlags(fs, stdio, "explain", args); done {
		return code
	}
	f, err := checkExplainFlags(g, *offline, *stageFlag, *senderFlag, *ipFlag)
	if err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	if fs.NArg() == 0 {
		return usageError(stdio, "explain", "want the TEXT to explain, a FILE, or - for stdin")
	}
	in, source, err := explainOpen(stdio, fs.Args())
	if err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	defer in.Close()
	br := bufio.NewReaderSize(in, maillog.SniffSize)
	head, err := br.Peek(maillog.SniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return usageError(stdio, "explain", "reading %s: %v", source, err)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return usageError(stdio, "explain", "the input is empty")
	}
	if maillog.Sniff(head) {
		return explainLog(ctx, stdio, f, br, source)
	}
	raw, err := io.ReadAll(io.LimitReader(br, explainMaxInput+1))
	if err != nil {
		return usageError(stdio, "explain", "reading %s: %v", source, err)
	}
	return explainText(ctx, stdio, f, raw, source)
}

// checkExplainFlags checks the flags and the global ones.
func checkExplainFlags(g *globalFlags, offline bool, stage, sender, ip string) (*explainFlags, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	f := &explainFlags{g: g, offline: offline, sender: sender}
	if stage != "" {
		st, ok := message.ParseStage(stage)
		if !ok {
			return nil, fmt.Errorf("--stage %q: want connect, ehlo, starttls, auth, mail, rcpt, data, quit", stage)
		}
		f.opt.Stage = st
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("--ip %q is not an IP address", ip)
		}
		f.ip = a.Unmap()
	}
	if sender != "" && !strings.Contains(sender, "@") {
		return nil, fmt.Errorf("--sender %q is not an address (want local@domain)", sender)
	}
	return f, nil
}

// followUp returns the live follow-up (nil with --offline) and its resolver.
func (f *explainFlags) followUp(sender string) (*check.FollowUp, *dnscheck.Client, error) {
	if f.offline {
		return nil, nil, nil
	}
	client, err := f.g.resolver()
	if err != nil {
		return nil, nil, err
	}
	if f.sender != "" {
		sender = f.sender
	}
	return check.NewFollowUp(client, sender, f.ip), client, nil
}

// explainText explains a reply, a bounce or pasted text (read whole).
func explainText(ctx context.Context, stdio IO, f *explainFlags, raw []byte, source string) int {
	started := time.Now()
	ex := message.ExplainInput(raw, f.opt)
	rep := report.New("explain", source, version, started)
	in := rep.Section("explain", "Input")
	in.Detail = explainInput{Source: source, Kind: ex.Kind, Subject: ex.Subject, Replies: len(ex.Replies),
		Entities: ex.Entities, Notes: ex.Notes, Offline: f.offline}
	for _, n := range ex.Notes {
		in.Add(report.Finding{ID: "explain.input-limited", Severity: report.Warning, Summary: n,
			Fix: "explain a smaller part of the text (the notification and the delivery-status part)"})
	}
	fu, client, err := f.followUp(ex.Sender)
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray explain: %v (or use --offline)\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := f.g.context(ctx)
	defer cancel()
	for i, r := range ex.Replies {
		sec := rep.Section(fmt.Sprintf("explain.%d", i+1), explainTitle(i, r))
		sec.Detail = r
		var live []report.Finding
		if fu != nil {
			live = fu.Reply(ctx, r)
		}
		sec.Add(check.Verdict(explainFinding(r), live, false))
		if repro, ok := check.Reproduce(r, f.ip); ok {
			sec.Add(repro)
		}
		sec.Add(live...)
	}
	if client != nil {
		rep.Trace = client.Trace()
	}
	rep.Finish(time.Now())
	return f.g.render(stdio, rep)
}

// explainLog explains a mail log as a stream: events grouped by cause;
// the live follow-up runs once per distinct (list, address) and sender
// domain of each group. With --format json every event is written as it
// is read, before the report.
func explainLog(ctx context.Context, stdio IO, f *explainFlags, r io.Reader, source string) int {
	started := time.Now()
	var jw *maillog.EventWriter
	if f.g.format == "json" {
		jw = maillog.NewEventWriter(stdio.Stdout)
	}
	sc := maillog.NewScanner(r, maillog.Options{})
	var groups maillog.Groups
	err := sc.Scan(func(ev *maillog.Event) error {
		groups.Add(ev)
		if jw != nil {
			return jw.Write(ev)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray explain: reading %s: %v\n", source, err)
		return report.ExitUnknown
	}
	rep := report.New("explain", source, version, started)
	in := rep.Section("explain", "Input")
	list := groups.List()
	in.Detail = explainLogInput{Source: source, Kind: "log", Stats: sc.Stats(), Groups: len(list), Offline: f.offline}
	fu, client, err := f.followUp("")
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray explain: %v (or use --offline)\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := f.g.context(ctx)
	defer cancel()
	for i, g := range list {
		explainGroup(ctx, rep.Section(fmt.Sprintf("explain.group.%d", i+1), groupTitle(g)), g, fu, f.ip)
	}
	if client != nil {
		rep.Trace = client.Trace()
	}
	rep.Finish(time.Now())
	if jw == nil {
		return f.g.render(stdio, rep)
	}
	if !f.g.trace {
		rep.Trace = nil
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err == nil {
		err = jw.Finish(buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray: writing the report: %v\n", err)
		return report.ExitUnknown
	}
	return rep.ExitCode()
}

// explainGroup fills a group's section: the verdict, the command that
// reproduces a refusal of this server, and the follow-up.
func explainGroup(ctx context.Context, sec *report.Section, g *maillog.Group, fu *check.FollowUp, ip netip.Addr) {
	sec.Detail = g
	var live []report.Finding
	if fu != nil {
		live = fu.Group(ctx, g)
	}
	sec.Add(check.Verdict(groupFinding(g), live, g.Direction == maillog.Inbound))
	if g.Direction == maillog.Outbound {
		if repro, ok := check.Reproduce(g.Reply(), ip); ok {
			sec.Add(repro)
		}
	}
	sec.Add(live...)
}

// explainLogInput is the Detail of a log's first section.
type explainLogInput struct {
	Source  string        `json:"source"`
	Kind    string        `json:"kind"` // "log"
	Stats   maillog.Stats `json:"stats"`
	Groups  int           `json:"groups"`
	Offline bool          `json:"offline"`
}

func (e explainLogInput) DetailLines() []string {
	st := e.Stats
	out := []string{fmt.Sprintf("input: %s (mail log), %d lines, %d of a known MTA, %d %s in %d %s",
		e.Source, st.Lines, st.MailLines, st.Events, explainPlural(int(st.Events), "event", "events"), e.Groups, explainPlural(e.Groups, "group", "groups"))}
	if st.LongLines > 0 {
		out = append(out, fmt.Sprintf("%d lines over the length limit were skipped", st.LongLines))
	}
	if st.Forgotten > 0 {
		out = append(out, fmt.Sprintf("%d deferred recipients were not remembered for expiry (bound reached)", st.Forgotten))
	}
	return out
}

// groupTitle names a group by who refused whom and why.
func groupTitle(g *maillog.Group) string {
	who := map[string]string{maillog.Inbound: "refused by this server", maillog.Outbound: "refused by remote servers", maillog.Local: "local deliveries"}[g.Direction]
	return fmt.Sprintf("%d × %s: %s (%s)", g.Count, who, g.Reason, g.Cause)
}

// groupFinding is the main finding of a group: its example's explanation,
// with the severity of what happened to the mail. This server's own
// refusals are its policy at work (info) unless the follow-up says
// otherwise.
func groupFinding(g *maillog.Group) report.Finding {
	ex := g.Example
	f := report.Finding{ID: "explain." + g.Reason, Summary: ex.Summary, Cause: explainCause(g.Cause, g.Reason, ex.Permanent, string(ex.ActionBy)),
		Fix: ex.Fix, References: ex.References,
		Evidence: []string{"reply: " + ex.Reply, fmt.Sprintf("line %d: %s", ex.LineNumber, ex.Line)}}
	switch {
	case g.Direction == maillog.Inbound:
		f.Severity = report.Info
		f.Summary = "this server refused: " + ex.Summary
		f.Fix = "if the refused mail was wanted, change the restriction that refused it; otherwise the client's side must act: " + ex.Fix
	case g.Actions[maillog.ActionBounced]+g.Actions[maillog.ActionExpired] > 0:
		f.Severity = report.Failure
	default:
		f.Severity = report.Warning // deferred: still being retried
	}
	if g.Reason == "delivered" {
		f.Severity = report.Info
	}
	return f
}

// explainMaxInput bounds what explain reads of a message or pasted text
// (a bounce is rarely over 1 MB); a log is streamed and has no bound.
const explainMaxInput = 8 << 20

// explainOpen opens the input: "-" is stdin, an existing file is opened,
// an argument that looks like a path and names no file is an error, and
// anything else is the text itself (several arguments are joined, so an
// unquoted reply works).
func explainOpen(stdio IO, args []string) (io.ReadCloser, string, error) {
	if len(args) == 1 && args[0] == "-" {
		if stdio.Stdin == nil {
			return nil, "", errors.New("no stdin")
		}
		return io.NopCloser(stdio.Stdin), "stdin", nil
	}
	if len(args) == 1 {
		st, err := os.Stat(args[0])
		switch {
		case err == nil && st.Mode().IsRegular():
			file, err := os.Open(args[0])
			if err != nil {
				return nil, "", err
			}
			return file, args[0], nil
		case err == nil && st.IsDir():
			return nil, "", fmt.Errorf("%s is a directory, not a file to explain", args[0])
		case looksLikePath(args[0]):
			return nil, "", fmt.Errorf("%s: no such file (to explain it as text, quote it with a reply code)", args[0])
		}
	}
	return io.NopCloser(strings.NewReader(strings.Join(args, " "))), "argument", nil
}

// looksLikePath: an argument meant as a file name — one word with a "/",
// or a name ending in a mail or log extension. A reply has spaces and a
// code; a typo in a file name must not be explained as a reply.
func looksLikePath(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, ext := range []string{".eml", ".msg", ".log", ".txt", ".mbox"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return strings.Contains(l, "/") && !strings.ContainsAny(l, " \t\n")
}

func explainTitle(i int, r message.ExplainedReply) string {
	t := fmt.Sprintf("Reply %d", i+1)
	if r.Recipient != "" {
		t += " — " + r.Recipient
	}
	return t + ": " + r.Reason
}

// explainFinding turns one explanation into the section's main finding.
// Severity follows what the reply means for the mail: refused for good
// (failure), refused for now (warning), not a failure at all (info).
func explainFinding(r message.ExplainedReply) report.Finding {
	sev := report.Warning
	switch {
	case r.Reason == "delivered" || r.Reason == "vacation" || r.Reason == "feedback":
		sev = report.Info
	case r.Permanent:
		sev = report.Failure
	}
	var ev []string
	if r.Reply != "" {
		ev = append(ev, "reply: "+r.Reply)
	}
	if r.Stage != catalog.StageUnknown && r.Stage != "" {
		ev = append(ev, "stage: "+string(r.Stage))
	}
	if r.Status != "" || r.Action != "" {
		ev = append(ev, "DSN Action: "+r.Action+", Status: "+r.Status)
	}
	if r.RemoteMTA != "" {
		ev = append(ev, "remote MTA: "+r.RemoteMTA)
	}
	return report.Finding{
		ID:         "explain." + r.Reason,
		Severity:   sev,
		Subject:    r.Recipient,
		Summary:    r.Summary,
		Evidence:   ev,
		Cause:      explainCause(r.Cause, r.Reason, r.Permanent, string(r.ActionBy)),
		Fix:        r.Fix,
		References: r.References,
	}
}

// explainCause is the "why" line of an explained reply: the catalog's cause
// id and reason class, whether to retry, and who must act.
func explainCause(cause, reason string, permanent bool, actionBy string) string {
	retry := "temporary: the sender's server retries"
	if permanent {
		retry = "permanent: retrying unchanged will fail again"
	}
	s := fmt.Sprintf("catalog cause %s (reason class %s); %s", cause, reason, retry)
	if actionBy != "" {
		s += "; to act: " + actionBy
	}
	return s
}
