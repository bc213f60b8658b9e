package check

// The report of `mxray explain TEXT|FILE|-` (and of mxray serve's explain
// page and API): what a mail server said, mapped to its cause, stage and
// fix, with the live follow-up of explain.go.
//
// The input is one of two things, told apart by its first bytes
// (maillog.Sniff):
//
//   - a mail log, read as a stream (report/maillog): every refused,
//     deferred or bounced recipient is one event, the events are grouped
//     by cause, and each group gets one section — its verdict, the command
//     that reproduces a refusal of this server, and the follow-up, run once
//     per distinct (list, address) and sender domain of the group;
//   - anything else — reply lines, a whole bounce (RFC 3464 DSN, ARF,
//     non-standard bounce bodies), an mbox — read whole up to a bound
//     (report/message): one section per explained reply.
//
// The first section describes the input. Where the follow-up found what is
// true now, the headline says it (Verdict).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/maillog"
	"github.com/mxray/mxray/report/message"
)

// ExplainOptions are what an explanation takes beside its input.
type ExplainOptions struct {
	// Source names the input in the report: "argument", "stdin", a file
	// name, "pasted text".
	Source string
	// Offline skips the live follow-up: no DNS query is sent, and the
	// text alone is read.
	Offline bool
	// Sender is the sender address of the bounced message (--sender; by
	// default a bounce's own recipient), whose domain's SPF and DMARC the
	// follow-up checks; IP is the sending address (--ip; by default the
	// one the text names).
	Sender string
	IP     netip.Addr
	// Message is the stage to assume (--stage) and the bounds of a
	// message or pasted text: Limits.MaxSize is also how much of it is
	// read (zero: message.DefaultLimits). A mail log is streamed and has
	// no bound.
	Message message.ExplainOptions
	// FollowUpTimeout, when positive, bounds the live follow-up, counted
	// from the end of the input: a log read from a pipe may take longer
	// than the network checks are given.
	FollowUpTimeout time.Duration
	// Events, when set, is called once the input is known to be a mail
	// log, before it is read; the function it returns (nil: none) gets
	// each event as it is read, so that a caller can write them out
	// without holding them (--format json). Its error ends the reading.
	Events func() func(*maillog.Event) error
}

// InputError is an input that cannot be explained: it is empty, or it
// could not be read before anything was explained. It is the user's to
// correct (a usage error; 400 on the web).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Explain reads the input and returns its report. cfg gives the resolver
// of the follow-up (required unless opt.Offline), the version and the
// clock; cfg.OnPartDone, when set, gets each section as soon as it is done
// (the input's under the part id "explain", every other under its own id),
// so a page can show the first replies while the follow-up of the next
// runs.
func Explain(ctx context.Context, cfg Config, in io.Reader, opt ExplainOptions) (*report.Report, error) {
	if !opt.Offline && cfg.Resolver == nil {
		return nil, errors.New("check: the live follow-up of explain needs a resolver")
	}
	x := &explainer{cfg: cfg, opt: opt, partDone: serialised(cfg.OnPartDone)}
	x.started = x.now()
	br := bufio.NewReaderSize(in, maillog.SniffSize)
	head, err := br.Peek(maillog.SniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, &InputError{fmt.Errorf("reading %s: %w", opt.Source, err)}
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, &InputError{errors.New("the input is empty")}
	}
	if maillog.Sniff(head) {
		return x.log(ctx, br)
	}
	lim := opt.Message.Limits.MaxSize
	if lim <= 0 {
		lim = message.DefaultLimits.MaxSize
	}
	raw, err := io.ReadAll(io.LimitReader(br, int64(lim)+1))
	if err != nil {
		return nil, &InputError{fmt.Errorf("reading %s: %w", opt.Source, err)}
	}
	return x.text(ctx, raw), nil
}

// ScanLog reads a mail log as a stream and hands each event to fn, as
// Explain reads one. mxray serve's JSON document lists the events of a
// pasted log after Explain has run (the exit code goes in a header, before
// them): it reads the log a second time with this.
func ScanLog(r io.Reader, fn func(*maillog.Event) error) (maillog.Stats, error) {
	sc := maillog.NewScanner(r, maillog.Options{})
	err := sc.Scan(fn)
	return sc.Stats(), err
}

// explainer is one explanation under way.
type explainer struct {
	cfg      Config
	opt      ExplainOptions
	started  time.Time
	partDone func(string, []report.Section)
}

func (x *explainer) now() time.Time { return (&Env{Config: &x.cfg}).Now() }

// followUp is the live follow-up (nil offline), for a bounce's sender
// unless --sender says otherwise, and the context it runs in.
func (x *explainer) followUp(ctx context.Context, sender string) (*FollowUp, context.Context, context.CancelFunc) {
	if x.opt.Offline {
		return nil, ctx, func() {}
	}
	if x.opt.Sender != "" {
		sender = x.opt.Sender
	}
	fu := NewFollowUp(x.cfg.Resolver, sender, x.opt.IP)
	if x.opt.FollowUpTimeout > 0 {
		ctx, cancel := context.WithTimeout(ctx, x.opt.FollowUpTimeout)
		return fu, ctx, cancel
	}
	return fu, ctx, func() {}
}

// done hands a finished section to OnPartDone.
func (x *explainer) done(part string, sec *report.Section) {
	x.partDone(part, []report.Section{*sec})
}

// finish adds the trace and the end time.
func (x *explainer) finish(rep *report.Report) *report.Report {
	if !x.opt.Offline {
		rep.Trace = traceOf(x.cfg.Resolver)
	}
	rep.Finish(x.now())
	return rep
}

// text explains a reply, a bounce or pasted text (read whole).
func (x *explainer) text(ctx context.Context, raw []byte) *report.Report {
	ex := message.ExplainInput(raw, x.opt.Message)
	rep := report.New("explain", x.opt.Source, x.cfg.Version, x.started)
	in := rep.Section("explain", "Input")
	in.Detail = explainedInput{Source: x.opt.Source, Kind: ex.Kind, Subject: ex.Subject, Replies: len(ex.Replies),
		Entities: ex.Entities, Notes: ex.Notes, Offline: x.opt.Offline}
	for _, n := range ex.Notes {
		in.Add(report.Finding{ID: "explain.input-limited", Severity: report.Warning, Summary: n,
			Fix: "explain a smaller part of the text (the notification and the delivery-status part)"})
	}
	x.done("explain", in)
	fu, ctx, cancel := x.followUp(ctx, ex.Sender)
	defer cancel()
	for i, r := range ex.Replies {
		sec := rep.Section(fmt.Sprintf("explain.%d", i+1), replyTitle(i, r))
		sec.Detail = r
		var live []report.Finding
		if fu != nil {
			live = fu.Reply(ctx, r)
		}
		sec.Add(Verdict(replyFinding(r), live, false))
		if repro, ok := Reproduce(r, x.opt.IP); ok {
			sec.Add(repro)
		}
		sec.Add(live...)
		x.done(sec.ID, sec)
	}
	return x.finish(rep)
}

// log explains a mail log as a stream: events grouped by cause; the live
// follow-up runs once per distinct (list, address) and sender domain of
// each group.
func (x *explainer) log(ctx context.Context, r io.Reader) (*report.Report, error) {
	var each func(*maillog.Event) error
	if x.opt.Events != nil {
		each = x.opt.Events()
	}
	var groups maillog.Groups
	stats, err := ScanLog(r, func(ev *maillog.Event) error {
		groups.Add(ev)
		if each != nil {
			return each(ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", x.opt.Source, err)
	}
	rep := report.New("explain", x.opt.Source, x.cfg.Version, x.started)
	list := groups.List()
	in := rep.Section("explain", "Input")
	in.Detail = explainedLog{Source: x.opt.Source, Kind: "log", Stats: stats, Groups: len(list), Offline: x.opt.Offline}
	x.done("explain", in)
	fu, ctx, cancel := x.followUp(ctx, "")
	defer cancel()
	for i, g := range list {
		sec := rep.Section(fmt.Sprintf("explain.group.%d", i+1), groupTitle(g))
		x.group(ctx, sec, g, fu)
		x.done(sec.ID, sec)
	}
	return x.finish(rep), nil
}

// group fills a group's section: the verdict, the command that
// reproduces a refusal of this server, and the follow-up.
func (x *explainer) group(ctx context.Context, sec *report.Section, g *maillog.Group, fu *FollowUp) {
	sec.Detail = g
	var live []report.Finding
	if fu != nil {
		live = fu.Group(ctx, g)
	}
	sec.Add(Verdict(groupFinding(g), live, g.Direction == maillog.Inbound))
	if g.Direction == maillog.Outbound {
		if repro, ok := Reproduce(g.Reply(), x.opt.IP); ok {
			sec.Add(repro)
		}
	}
	sec.Add(live...)
}

// explainedInput is the Detail of the first section of a reply or a
// message: what the input was.
type explainedInput struct {
	Source   string           `json:"source"` // "argument", "stdin", the file name, "pasted text"
	Kind     string           `json:"kind"`   // reply, log, bounce-text, bounce, dsn, feedback, auto-reply
	Subject  string           `json:"subject,omitempty"`
	Replies  int              `json:"replies"`
	Entities message.Entities `json:"entities"`
	Notes    []string         `json:"notes,omitempty"`
	Offline  bool             `json:"offline"`
}

func (e explainedInput) DetailLines() []string {
	out := []string{fmt.Sprintf("input: %s (%s), %d explained %s", e.Source, e.Kind, e.Replies, plural(e.Replies, "reply", "replies"))}
	if e.Subject != "" {
		out = append(out, "subject: "+e.Subject)
	}
	if len(e.Entities.IPs) > 0 {
		out = append(out, "IP addresses: "+strings.Join(e.Entities.IPs, ", "))
	}
	if len(e.Entities.Zones) > 0 {
		out = append(out, "blocklist zones: "+strings.Join(e.Entities.Zones, ", "))
	}
	return append(out, e.Notes...)
}

// explainedLog is the Detail of a log's first section.
type explainedLog struct {
	Source  string        `json:"source"`
	Kind    string        `json:"kind"` // "log"
	Stats   maillog.Stats `json:"stats"`
	Groups  int           `json:"groups"`
	Offline bool          `json:"offline"`
}

func (e explainedLog) DetailLines() []string {
	st := e.Stats
	out := []string{fmt.Sprintf("input: %s (mail log), %d lines, %d of a known MTA, %d %s in %d %s",
		e.Source, st.Lines, st.MailLines, st.Events, plural(int(st.Events), "event", "events"), e.Groups, plural(e.Groups, "group", "groups"))}
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
	f := report.Finding{ID: "explain." + g.Reason, Summary: ex.Summary, Cause: replyCause(g.Cause, g.Reason, ex.Permanent, string(ex.ActionBy)),
		Fix: ex.Fix, References: ex.References,
		Evidence: []string{"reply: " + ex.Reply, fmt.Sprintf("line %d: %s", ex.LineNumber, ex.Line)}}
	switch {
	case g.Direction == maillog.Inbound:
		f.Severity = report.Info
		f.Summary = "this server refused: " + ex.Summary
		f.Fix = "if the refused mail was wanted, change the restriction that refused it; otherwise the client's side must act: " + ex.Fix
	case g.Actions[maillog.ActionBounced]+g.Actions[maillog.ActionExpired] > 0:
		f.Severity = report.Failure
	case ex.ActionBy == catalog.ActionNobody:
		f.Severity = report.Info // deferred, and retrying is all it takes (greylisting)
	default:
		f.Severity = report.Warning // deferred: still being retried
	}
	if g.Reason == "delivered" {
		f.Severity = report.Info
	}
	return f
}

func replyTitle(i int, r message.ExplainedReply) string {
	t := fmt.Sprintf("Reply %d", i+1)
	if r.Recipient != "" {
		t += " — " + r.Recipient
	}
	return t + ": " + r.Reason
}

// replyFinding turns one explanation into the section's main finding.
// Severity follows what the reply means for the mail: refused for good
// (failure), refused for now (warning), not a failure at all (info).
func replyFinding(r message.ExplainedReply) report.Finding {
	sev := report.Warning
	switch {
	case r.Reason == "delivered" || r.Reason == "vacation" || r.Reason == "feedback":
		sev = report.Info
	case r.Permanent:
		sev = report.Failure
	case r.ActionBy == catalog.ActionNobody:
		// A temporary refusal nobody has to act on (greylisting, a busy
		// server): the sending MTA retries; nothing to change.
		sev = report.Info
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
	return report.Finding{ID: "explain." + r.Reason, Severity: sev, Subject: r.Recipient, Summary: r.Summary,
		Evidence: ev, Cause: replyCause(r.Cause, r.Reason, r.Permanent, string(r.ActionBy)), Fix: r.Fix, References: r.References}
}

// replyCause is the "why" line of an explained reply: the catalog's cause
// id and reason class, whether to retry, and who must act.
func replyCause(cause, reason string, permanent bool, actionBy string) string {
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
