package check

// Domain lists for check --domains: one domain a line, read as it comes
// (a list of a million domains, or a pipe that is still being written, costs
// one line of memory). The accepted forms are what operators keep domains
// in: plain lists with # comments, and CSV exports whose first column is the
// domain (RFC 4180: fields separated by commas, a field may be quoted with
// "" for a quote inside). Blank lines and comment lines are skipped; a line
// that does not hold a domain is an entry with an error, and the list goes on.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mxray/mxray/dnscheck"
)

// MaxListLine bounds one line of a domain list. A domain is at most 253
// octets; the rest of a CSV row is not read beyond this.
const MaxListLine = 64 << 10

// maxInputShown clips the text of a bad line in reports.
const maxInputShown = 256

// ListEntry is one line of a domain list that is not blank or a comment.
type ListEntry struct {
	Line   int    // 1-based line number in the list
	Input  string // the domain as written (first column, comment removed), clipped to 256 octets
	Domain string // normalised (A-labels, lower case, no trailing dot); "" when Err is set
	Err    error
}

// DomainList reads a domain list line by line.
type DomainList struct {
	r    *bufio.Reader
	line int
}

// NewDomainList reads the list from r as it comes.
func NewDomainList(r io.Reader) *DomainList {
	return &DomainList{r: bufio.NewReaderSize(r, 4096)}
}

// Next returns the next entry. It returns io.EOF at the end of the list and
// other errors when reading fails; a line that holds no valid domain is an
// entry with Err set, never an error of Next.
func (l *DomainList) Next() (ListEntry, error) {
	for {
		raw, tooLong, err := l.readLine()
		if err != nil {
			return ListEntry{}, err
		}
		l.line++
		if l.line == 1 {
			raw = strings.TrimPrefix(raw, "\uFEFF") // a byte order mark from a spreadsheet export
		}
		e, ok := parseListLine(l.line, raw, tooLong)
		if ok {
			return e, nil
		}
	}
}

// readLine returns the next line without its end (LF or CRLF); a line
// longer than MaxListLine is cut there and the rest discarded. A last line
// without a newline is a line.
func (l *DomainList) readLine() (string, bool, error) {
	var b []byte
	tooLong := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(b)+len(chunk) > MaxListLine {
			tooLong = true
			chunk = chunk[:max(0, MaxListLine-len(b))]
		}
		b = append(b, chunk...)
		switch {
		case err == nil:
			return strings.TrimRight(string(b), "\r\n"), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(b) > 0:
			return strings.TrimRight(string(b), "\r\n"), tooLong, nil
		default:
			return "", false, err
		}
	}
}

// parseListLine reads one line; ok is false for a blank or comment line.
func parseListLine(n int, raw string, tooLong bool) (ListEntry, bool) {
	if t := strings.TrimSpace(raw); (t == "" || t[0] == '#') && !tooLong {
		return ListEntry{}, false
	}
	field, err := firstColumn(raw)
	if i := strings.IndexByte(field, '#'); i >= 0 {
		field = field[:i]
	}
	field = strings.TrimSpace(field)
	e := ListEntry{Line: n, Input: clipInput(field)}
	switch {
	case tooLong:
		e.Err = fmt.Errorf("line %d is longer than %d octets", n, MaxListLine)
	case err != nil:
		e.Err = fmt.Errorf("line %d: %v", n, err)
	case field == "":
		e.Err = fmt.Errorf("line %d: the first column is empty", n)
	default:
		e.Domain, e.Err = dnscheck.NormalizeDomain(field)
		if e.Err != nil {
			e.Err = fmt.Errorf("line %d: %w", n, e.Err)
		}
	}
	return e, true
}

// firstColumn is the first field of a CSV row (RFC 4180 §2): up to the
// first comma, or a quoted field with "" standing for a quote.
func firstColumn(line string) (string, error) {
	s := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(s, `"`) {
		if i := strings.IndexByte(s, ','); i >= 0 {
			return s[:i], nil
		}
		return s, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), nil
	}
	return b.String(), errors.New("a quoted field is not closed")
}

// clipInput keeps at most maxInputShown octets of s, on a rune boundary.
func clipInput(s string) string {
	if len(s) <= maxInputShown {
		return s
	}
	cut := maxInputShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
