package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiPurple = "\x1b[35m"
)

var severityLabel = map[Severity]string{
	OK: "  ok  ", Info: " info ", Warning: " warn ", Failure: " FAIL ", Unknown: " ???? ",
}

var severityColor = map[Severity]string{
	OK: ansiGreen, Info: ansiBlue, Warning: ansiYellow, Failure: ansiRed, Unknown: ansiPurple,
}

// WriteText renders the report for a person: one block per section, one
// line per finding, then its evidence, cause, fix and records to publish.
func WriteText(w io.Writer, r *Report, opt TextOptions) error {
	bw := bufio.NewWriter(w)
	p := textPrinter{w: bw, color: opt.Color}
	p.line(p.c(ansiBold, fmt.Sprintf("mxray %s %s", r.Command, r.Target)))
	if len(r.Requirements) > 0 {
		p.line("")
		p.writeRequirements(r.Requirements)
	}
	for _, s := range r.Sections {
		p.line("")
		p.line(p.c(ansiBold, s.Title) + p.c(ansiDim, " ["+s.ID+"]"))
		for _, f := range s.Findings {
			label := "[" + severityLabel[f.Severity] + "]"
			subj := ""
			if f.Subject != "" {
				subj = f.Subject + ": "
			}
			p.line(fmt.Sprintf("  %s %s%s %s", p.c(severityColor[f.Severity], label), subj, f.Summary, p.c(ansiDim, "("+f.ID+")")))
			if f.Severity == OK {
				continue
			}
			for _, e := range f.Evidence {
				p.wrapped("      │ ", e)
			}
			if f.Cause != "" {
				p.wrapped("      why: ", f.Cause)
			}
			if f.Fix != "" {
				p.wrapped("      fix: ", f.Fix)
			}
			for _, rec := range f.Publish {
				p.line("      publish: " + p.c(ansiBold, rec))
			}
			if len(f.References) > 0 {
				p.wrapped("      see: ", strings.Join(f.References, "; "))
			}
		}
		if d, ok := s.Detail.(Detailer); ok {
			for _, l := range d.DetailLines() {
				p.line("    " + l)
			}
		}
	}
	p.line("")
	c := r.Summary
	p.line(fmt.Sprintf("%s: %d ok, %d info, %d warning, %d failure, %d unknown in %s",
		p.c(ansiBold, "summary"), c.OK, c.Info, c.Warning, c.Failure, c.Unknown,
		time.Duration(r.Duration).Round(time.Millisecond)))
	if opt.Trace && len(r.Trace) > 0 {
		p.line("")
		p.line(p.c(ansiBold, fmt.Sprintf("DNS trace (%d queries)", len(r.Trace))))
		for _, q := range r.Trace {
			extra := ""
			if q.TCP {
				extra += " tcp"
			}
			if q.Error != "" {
				extra += " " + q.Error
			}
			p.line(fmt.Sprintf("  %-45s %-6s %-9s %2d answers %8s via %s%s", q.Name, q.Type, q.Rcode, q.Answers,
				q.Duration.Std().Round(time.Microsecond*100), q.Server, extra))
		}
	}
	return bw.Flush()
}

type textPrinter struct {
	w     *bufio.Writer
	color bool
}

func (p textPrinter) c(code, s string) string {
	if !p.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (p textPrinter) line(s string) {
	p.w.WriteString(sanitize(s))
	p.w.WriteByte('\n')
}

// wrapped writes a possibly multi-line value with the prefix on the first line.
func (p textPrinter) wrapped(prefix, s string) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	pad := strings.Repeat(" ", len([]rune(prefix)))
	for i, l := range lines {
		if i == 0 {
			p.line(prefix + l)
		} else {
			p.line(pad + l)
		}
	}
}

// sanitize removes control characters (other than our own ANSI escapes'
// ESC) that came from remote servers, so a hostile banner cannot drive the
// user's terminal. ESC itself is only kept when followed by '[' and a
// colour code we emit.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b && strings.HasPrefix(s[i:], "\x1b[") && isOurEscape(s[i:]):
			b.WriteByte(c)
		case c < 0x20 && c != '\t', c == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isOurEscape(s string) bool {
	for _, e := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiGreen, ansiYellow, ansiBlue, ansiPurple} {
		if strings.HasPrefix(s, e) {
			return true
		}
	}
	return false
}

// Printable makes remote text safe for a terminal or a mail: control
// characters become \xNN, so a hostile banner cannot drive the screen.
// Renderers outside this package (state changes) use it on every line.
func Printable(s string) string { return sanitize(s) }
