package report

// Renderers for runs over many domains (check --domains): JSON Lines, one
// report per line as each is done, and a summary table for people, one row
// per domain as each is done and the totals at the end. Both stream: a row
// is written when its report is given, so output appears while the run goes.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteJSONLine writes the report as one line of JSON Lines (jsonlines.org):
// the same document as WriteJSON, compact, ended by a newline.
func WriteJSONLine(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w) // Encode ends the value with "\n" and escapes none inside
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// SummaryTable writes one row per report: its status (from the exit code),
// the domain, the counts per severity and the worst finding.
type SummaryTable struct {
	p       textPrinter
	w       io.Writer
	started bool
	totals  [ExitUnknown + 1]int // reports by exit code
}

// NewSummaryTable starts a table on w; rows are written as reports are added.
func NewSummaryTable(w io.Writer, opt TextOptions) *SummaryTable {
	return &SummaryTable{w: w, p: textPrinter{color: opt.Color}}
}

const summaryRow = "%-8s %-32s %4s %4s %4s %4s %4s  %s"

var exitStatus = map[int]struct {
	name string
	sev  Severity
}{
	ExitOK: {"ok", OK}, ExitWarning: {"warning", Warning}, ExitFailure: {"failure", Failure}, ExitUnknown: {"unknown", Unknown},
}

// Add writes the row of r (and the header before the first row).
func (t *SummaryTable) Add(r *Report) error {
	var b strings.Builder
	if !t.started {
		t.started = true
		b.WriteString(t.p.c(ansiBold, fmt.Sprintf(summaryRow, "STATUS", "DOMAIN", "OK", "INFO", "WARN", "FAIL", "UNKN", "WORST FINDING")) + "\n")
	}
	code := r.ExitCode()
	t.totals[code]++
	st := exitStatus[code]
	c := r.Summary
	row := fmt.Sprintf(summaryRow, st.name, r.Target, itoa(c.OK), itoa(c.Info), itoa(c.Warning), itoa(c.Failure), itoa(c.Unknown), worstFinding(r))
	if t.p.color {
		// Colour the status word only; padding stays outside the escape.
		row = t.p.c(severityColor[st.sev], st.name) + row[len(st.name):]
	}
	b.WriteString(sanitize(row) + "\n")
	_, err := io.WriteString(t.w, b.String())
	return err
}

// Close writes the totals line.
func (t *SummaryTable) Close() error {
	n := 0
	for _, x := range t.totals {
		n += x
	}
	_, err := fmt.Fprintf(t.w, "%s: %d domains: %d ok, %d warning, %d failure, %d unknown\n", t.p.c(ansiBold, "total"), n,
		t.totals[ExitOK], t.totals[ExitWarning], t.totals[ExitFailure], t.totals[ExitUnknown])
	return err
}

func itoa(n int) string { return strconv.Itoa(n) }

// worstFinding is "id: summary" of the first finding of the report's worst
// severity, clipped; "-" when nothing is worse than info.
func worstFinding(r *Report) string {
	fs := r.Findings()
	w := worst(fs)
	if w == OK || w == Info {
		return "-"
	}
	for _, f := range fs {
		if f.Severity == w {
			s := f.ID + ": " + f.Summary
			if rs := []rune(s); len(rs) > 100 {
				s = string(rs[:99]) + "…"
			}
			return s
		}
	}
	return "-"
}
