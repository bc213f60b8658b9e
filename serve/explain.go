package serve

// The explanation of a pasted reply, log excerpt or bounce, assembled as
// `mxray explain` does (cmd/mxray/explain.go): one section describing the
// input, then one per explained reply with its live follow-up.

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/message"
)

// MaxUpload is the default bound on a pasted text or uploaded message.
const MaxUpload = 10 << 20

// explainInput is the Detail of the first section: what the input was
// (the same fields as `mxray explain --format json`).
type explainInput struct {
	Source   string           `json:"source"`
	Kind     string           `json:"kind"`
	Subject  string           `json:"subject,omitempty"`
	Replies  int              `json:"replies"`
	Entities message.Entities `json:"entities"`
	Notes    []string         `json:"notes,omitempty"`
	Offline  bool             `json:"offline"`
}

func (e explainInput) DetailLines() []string {
	n := "replies"
	if e.Replies == 1 {
		n = "reply"
	}
	out := []string{fmt.Sprintf("input: %s (%s), %d explained %s", e.Source, e.Kind, e.Replies, n)}
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

// explainJob explains raw (named source: "form", "upload NAME", "api").
func (e *worldEnv) explainJob(raw []byte, source string, offline bool) job {
	return job{command: "explain", target: source, parts: []string{"explain"},
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			lim := message.DefaultLimits
			lim.MaxSize = MaxUpload
			ex := message.ExplainInput(raw, message.ExplainOptions{Limits: lim})
			rep := report.New("explain", source, e.version, e.clock())
			in := rep.Section("explain", "Input")
			in.Detail = explainInput{Source: source, Kind: ex.Kind, Subject: ex.Subject, Replies: len(ex.Replies),
				Entities: ex.Entities, Notes: ex.Notes, Offline: offline}
			for _, n := range ex.Notes {
				in.Add(report.Finding{ID: "explain.input-limited", Severity: report.Warning, Summary: n,
					Fix: "explain a smaller part of the text (the notification and the delivery-status part)"})
			}
			var fu *check.FollowUp
			var trace func() []report.Query
			if !offline {
				client, res, err := e.resolver(0)
				if err != nil {
					return nil, err
				}
				fu, trace = check.NewFollowUp(res, ex.Sender, netip.Addr{}), client.Trace
			}
			for i, r := range ex.Replies {
				sec := rep.Section(fmt.Sprintf("explain.%d", i+1), explainTitle(i, r))
				sec.Detail = r
				sec.Add(explainFinding(r))
				if fu != nil {
					sec.Add(fu.Reply(ctx, r)...)
				}
			}
			if trace != nil {
				rep.Trace = trace()
			}
			rep.Finish(e.clock())
			emit("explain", rep.Sections)
			return rep, nil
		}}
}

func explainTitle(i int, r message.ExplainedReply) string {
	t := fmt.Sprintf("Reply %d", i+1)
	if r.Recipient != "" {
		t += " — " + r.Recipient
	}
	return t + ": " + r.Reason
}

// explainFinding turns one explanation into the section's main finding:
// refused for good is a failure, refused for now a warning, not a failure
// at all (delivered, vacation, feedback) info.
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
	return report.Finding{ID: "explain." + r.Reason, Severity: sev, Subject: r.Recipient, Summary: r.Summary,
		Evidence: ev, Cause: explainCause(r), Fix: r.Fix, References: r.References}
}

// explainCause: the catalog's cause id and reason class, whether to
// retry, and who must act.
func explainCause(r message.ExplainedReply) string {
	retry := "temporary: the sender's server retries"
	if r.Permanent {
		retry = "permanent: retrying unchanged will fail again"
	}
	s := fmt.Sprintf("catalog cause %s (reason class %s); %s", r.Cause, r.Reason, retry)
	if r.ActionBy != "" {
		s += "; to act: " + string(r.ActionBy)
	}
	return s
}
