package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

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

// explainMaxInput bounds what explain reads (a bounce is rarely over 1 MB).
const explainMaxInput = 8 << 20

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

func runExplain(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("explain", stdio, "mxray explain [TEXT|FILE|-] [--offline] [--stage S] [flags]",
		"Explains what a mail server said: a reply line (\"550 5.7.26 …\"), a multi-line reply, an Exim or Postfix\n"+
			"error text or log line, an Exchange NDR, or a whole bounce message (RFC 3464 DSN, non-standard bounce\n"+
			"bodies, ARF feedback reports, auto-replies) given as a FILE or on stdin (-). Each reply (each recipient\n"+
			"of a bounce) gets its stage, codes, reason class, cause, who must act and the fix.\n"+
			"Unless --offline, what the text names is checked now: a blocklist zone and an IP (still listed?), an\n"+
			"SPF/DKIM/DMARC failure (the sender domain's SPF and DMARC now), a missing PTR (reverse DNS now).")
	g := addGlobalFlags(fs)
	offline := fs.Bool("offline", false, "do not run the live follow-up checks (no DNS queries)")
	stageFlag := fs.String("stage", "", "the SMTP stage the reply answered, when the text does not say: connect, ehlo, starttls, auth, mail, rcpt, data")
	senderFlag := fs.String("sender", "", "the sender address of the bounced message, for the SPF/DMARC follow-up (default: the bounce's recipient)")
	ipFlag := fs.String("ip", "", "the sending IP address, for the blocklist/SPF/PTR follow-up (default: the IP the text names)")
	if code, done := parseFlags(fs, stdio, "explain", args); done {
		return code
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	opt := message.ExplainOptions{}
	if *stageFlag != "" {
		st, ok := message.ParseStage(*stageFlag)
		if !ok {
			return usageError(stdio, "explain", "--stage %q: want connect, ehlo, starttls, auth, mail, rcpt, data, quit", *stageFlag)
		}
		opt.Stage = st
	}
	var ip netip.Addr
	if *ipFlag != "" {
		a, err := netip.ParseAddr(*ipFlag)
		if err != nil || a.Zone() != "" {
			return usageError(stdio, "explain", "--ip %q is not an IP address", *ipFlag)
		}
		ip = a.Unmap()
	}
	if *senderFlag != "" && !strings.Contains(*senderFlag, "@") {
		return usageError(stdio, "explain", "--sender %q is not an address (want local@domain)", *senderFlag)
	}
	if fs.NArg() == 0 {
		return usageError(stdio, "explain", "want the TEXT to explain, a FILE, or - for stdin")
	}
	raw, source, err := explainRead(stdio, fs.Args())
	if err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	if strings.TrimSpace(string(raw)) == "" {
		return usageError(stdio, "explain", "the input is empty")
	}

	started := time.Now()
	ex := message.ExplainInput(raw, opt)
	rep := report.New("explain", source, version, started)
	in := rep.Section("explain", "Input")
	in.Detail = explainInput{Source: source, Kind: ex.Kind, Subject: ex.Subject, Replies: len(ex.Replies),
		Entities: ex.Entities, Notes: ex.Notes, Offline: *offline}
	for _, n := range ex.Notes {
		in.Add(report.Finding{ID: "explain.input-limited", Severity: report.Warning, Summary: n,
			Fix: "explain a smaller part of the text (the notification and the delivery-status part)"})
	}

	var fu *check.FollowUp
	var client *dnscheck.Client
	if !*offline {
		client, err = g.resolver()
		if err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray explain: %v (or use --offline)\n", err)
			return report.ExitUnknown
		}
		sender := *senderFlag
		if sender == "" {
			sender = ex.Sender
		}
		fu = check.NewFollowUp(client, sender, ip)
	}
	ctx, cancel := g.context(ctx)
	defer cancel()

	for i, r := range ex.Replies {
		sec := rep.Section(fmt.Sprintf("explain.%d", i+1), explainTitle(i, r))
		sec.Detail = r
		sec.Add(explainFinding(r))
		if fu != nil {
			sec.Add(fu.Reply(ctx, r)...)
		}
	}
	if client != nil {
		rep.Trace = client.Trace()
	}
	rep.Finish(time.Now())
	return g.render(stdio, rep)
}

// explainRead reads the input: "-" is stdin, an existing file is read,
// anything else is the text itself (several arguments are joined, so an
// unquoted reply works).
func explainRead(stdio IO, args []string) ([]byte, string, error) {
	if len(args) == 1 && args[0] == "-" {
		if stdio.Stdin == nil {
			return nil, "", errors.New("no stdin")
		}
		b, err := io.ReadAll(io.LimitReader(stdio.Stdin, explainMaxInput+1))
		if err != nil {
			return nil, "", fmt.Errorf("reading stdin: %w", err)
		}
		return b, "stdin", nil
	}
	if len(args) == 1 {
		if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() {
			f, err := os.Open(args[0])
			if err != nil {
				return nil, "", err
			}
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, explainMaxInput+1))
			if err != nil {
				return nil, "", fmt.Errorf("reading %s: %w", args[0], err)
			}
			return b, args[0], nil
		}
	}
	return []byte(strings.Join(args, " ")), "argument", nil
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
