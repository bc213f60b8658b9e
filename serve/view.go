package serve

// The view of a report for the templates: the same sections and findings
// as the text report, with the typed details drawn as HTML (the SPF
// include tree, the SMTP transcripts, the blocklist table, the DMARC tree
// walk). Text that came from remote servers is never trusted: the
// templates escape it (html/template; nothing here is template.HTML), and
// visible() shows control and bidirectional-override characters as
// escapes, so a banner cannot hide or reorder what is shown.

import (
	"fmt"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/dmarc"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/spf"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

// sectionView is one section as the page shows it.
type sectionView struct {
	ID, Title string
	Worst     report.Severity
	Findings  []report.Finding
	SPF       *spf.Check
	DMARC     *dmarc.Result
	DNSBL     *dnsbl.Report
	SMTP      []sessionView
	Lines     []string // another detail's text lines
}

// sessionView is one SMTP session.
type sessionView struct {
	Summary    string
	Timings    string
	Transcript []string
	Retry      []string // the plaintext retry after a failed STARTTLS
	Replies    []replyView
}

// replyView is one reply with the catalog's explanation.
type replyView struct {
	Command, Code, Took, Explanation string
}

func viewSections(secs []report.Section) []sectionView {
	out := make([]sectionView, 0, len(secs))
	for _, s := range secs {
		v := sectionView{ID: s.ID, Title: s.Title, Worst: s.Worst(), Findings: s.Findings}
		switch d := s.Detail.(type) {
		case *spf.Check:
			v.SPF = d
		case *dmarc.Result:
			v.DMARC = d
		case *dnsbl.Report:
			v.DNSBL = d
		case *probe.Detail:
			for _, ss := range d.Sessions {
				v.SMTP = append(v.SMTP, viewSession(ss))
			}
		case report.Detailer:
			v.Lines = d.DetailLines()
		}
		out = append(out, v)
	}
	return out
}

func viewSession(s *probe.Session) sessionView {
	t := s.Timings
	v := sessionView{Summary: s.Summary(), Transcript: s.Transcript(),
		Timings: fmt.Sprintf("connect %s, greeting %s, TLS %s, total %s", dur(t.Connect), dur(t.Greeting), dur(t.TLS), dur(t.Total))}
	if s.PlainRetry != nil {
		v.Retry = s.PlainRetry.Transcript()
	}
	for _, st := range s.Steps {
		if st.Reply == nil {
			continue
		}
		what := st.Command
		if what == "" {
			what = "(greeting)"
		}
		code := fmt.Sprint(st.Reply.Code)
		if st.Reply.Enhanced != "" {
			code += " " + st.Reply.Enhanced
		}
		ex := st.Reply.Explain
		v.Replies = append(v.Replies, replyView{Command: what, Code: code, Took: dur(st.Duration),
			Explanation: strings.TrimSpace(fmt.Sprintf("%s [%s; %s]", ex.Summary, ex.Reason, ex.ActionBy))})
	}
	return v
}

func dur(d report.Duration) string {
	return time.Duration(d).Round(100 * time.Microsecond).String()
}

// visible shows the characters that would make remote text lie about
// itself: controls (a terminal escape, a NUL) and the bidirectional
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), as \x.. or
// \u.... escapes.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !hidden(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func hidden(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// severityWord is the severity as the page says it (colour is never the
// only signal).
func severityWord(s report.Severity) string {
	switch s {
	case report.OK:
		return "ok"
	case report.Info:
		return "info"
	case report.Warning:
		return "warning"
	case report.Failure:
		return "failure"
	}
	return "unknown"
}

// dnsblStatusClass maps a blocklist result to a severity class.
func dnsblStatusClass(r dnsbl.Result) string {
	switch {
	case r.Status == dnsbl.Listed:
		return "failure"
	case r.Status == dnsbl.NotListed:
		return "ok"
	}
	return "unknown"
}

// dnsblAnswer is the table's answer column, as the text report words it.
func dnsblAnswer(x dnsbl.Result) string {
	switch {
	case x.Status == dnsbl.Listed:
		return strings.Join(x.Meanings, "; ")
	case x.Status == dnsbl.NotListed:
		return "no A record"
	case x.Unhealthy && x.Refused:
		return "list refuses this resolver (test points)"
	case x.Unhealthy:
		return "list failed its RFC 5782 health check"
	case x.Refused:
		return "refused: " + strings.Join(x.Codes, ", ")
	}
	return x.Reason
}

// summaryView is the top of a finished report.
type summaryView struct {
	Counts   report.Counts
	Worst    string
	Headline string
	Took     string
	Exit     int
	Trace    []report.Query
	// Requirements is the provider table of a preflight.
	Requirements []requirementView
}

// requirementView is one row of the provider table, with the severity
// class its status is shown in.
type requirementView struct {
	report.Requirement
	Class string
	Reply string
}

// viewRequirements shows pass as ok, fail as failure, unknown as unknown
// and manual (only the sender can see it) as info.
func viewRequirements(reqs []report.Requirement) []requirementView {
	var out []requirementView
	for _, q := range reqs {
		v := requirementView{Requirement: q, Class: "info"}
		switch q.Status {
		case report.ReqPass:
			v.Class = "ok"
		case report.ReqFail:
			v.Class = "failure"
		case report.ReqUnknown:
			v.Class = "unknown"
		}
		if q.Reply != nil {
			v.Reply = q.Reply.String()
		}
		out = append(out, v)
	}
	return out
}

func viewSummary(rep *report.Report) summaryView {
	c := rep.Summary
	v := summaryView{Counts: c, Took: time.Duration(rep.Duration).Round(time.Millisecond).String(), Exit: rep.ExitCode(), Trace: rep.Trace,
		Requirements: viewRequirements(rep.Requirements)}
	if len(rep.Requirements) > 0 {
		v.Worst, v.Headline = requirementsHeadline(v.Exit, rep.Requirements, c)
		return v
	}
	switch v.Exit {
	case report.ExitFailure:
		v.Worst, v.Headline = "failure", plural(c.Failure, "failure")+" found"
	case report.ExitUnknown:
		v.Worst, v.Headline = "unknown", plural(c.Unknown, "part")+" could not be checked"
	case report.ExitWarning:
		v.Worst, v.Headline = "warning", plural(c.Warning, "warning")+", nothing failed"
	default:
		v.Worst, v.Headline = "ok", "everything checked is in order"
	}
	return v
}

// requirementsHeadline sums a provider table up: its exit code comes from
// the rows that apply (report.Report.ExitCode), so the headline counts
// them, not the evidence's findings.
func requirementsHeadline(exit int, reqs []report.Requirement, c report.Counts) (string, string) {
	failed, unknown := 0, 0
	for _, q := range reqs {
		switch {
		case !q.Applies:
		case q.Status == report.ReqFail:
			failed++
		case q.Status == report.ReqUnknown:
			unknown++
		}
	}
	switch exit {
	case report.ExitFailure:
		h := plural(failed, "provider requirement") + " failed"
		if unknown > 0 {
			h += fmt.Sprintf(", %d could not be checked", unknown)
		}
		return "failure", h
	case report.ExitUnknown:
		return "unknown", plural(unknown, "provider requirement") + " could not be checked, none failed"
	case report.ExitWarning:
		return "warning", "no provider requirement that applies failed; " + plural(c.Warning, "warning") + " to read below"
	}
	return "ok", "no provider requirement that applies failed or went unchecked"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
