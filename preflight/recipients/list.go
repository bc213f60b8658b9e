package recipients

// Reading a recipients list as a stream: one line at a time, keeping only
// counts, a bounded number of examples, a 64-bit hash per distinct address
// (for duplicates) and the count per domain.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mxray/mxray/internal/lazyre"
)

// Bounds of a list read.
const (
	// MaxLine is the longest line read; a longer one is a syntax error.
	MaxLine = 4096
	// MaxTracked bounds the distinct addresses remembered for duplicate
	// detection: 8 octets of hash and 4 of line number each, about 20
	// octets with the map's overhead, so 100 MB at the bound. Duplicates of
	// addresses past it are not found, and the result says so.
	MaxTracked = 5_000_000
	// MaxDomains bounds the distinct domains counted; addresses in further
	// domains are counted as such but their domains are not checked.
	MaxDomains = 1_000_000
	// MaxExamples bounds the examples kept of each kind of problem.
	MaxExamples = 20
)

// LineProblem is one line that is not a usable address, or a duplicate.
type LineProblem struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// List is what a read of the list found.
type List struct {
	Lines      int `json:"lines"`
	Addresses  int `json:"addresses"` // valid addresses, duplicates included
	Unique     int `json:"unique"`
	Duplicates int `json:"duplicates"`
	// Untracked counts addresses past MaxTracked: not checked for duplicates.
	Untracked       int           `json:"untracked,omitempty"`
	SyntaxErrors    int           `json:"syntax_errors"`
	Roles           int           `json:"roles"`
	SyntaxExamples  []LineProblem `json:"syntax_examples,omitempty"`
	DupExamples     []LineProblem `json:"duplicate_examples,omitempty"`
	RoleExamples    []LineProblem `json:"role_examples,omitempty"`
	HeaderSkipped   bool          `json:"header_skipped,omitempty"`
	DomainsOverflow int           `json:"domains_overflow,omitempty"` // addresses in domains past MaxDomains
	// Domains counts the unique addresses per domain.
	Domains map[string]int `json:"-"`

	seed maphash.Seed
	seen map[uint64]uint32 // hash of the normalised address → its first line
}

// ErrNotText is wrapped when the input is not a text list at all.
var ErrNotText = errors.New("not a text list of addresses")

// headerRE is a CSV header's first column ("email", "E-mail address", ...).
var headerRE = lazyre.New(`(?i)^[a-z _-]*(e-?mail|address|recipient)[a-z _-]*$`)

// Read reads a recipients list: one address a line, or CSV with the
// address in the first column; blank lines and lines starting with '#'
// are skipped, as is a CSV header line. It fails only on a read error or
// input that is not text (a NUL byte, or UTF-16); a bad line is counted
// with its number, and the read goes on.
func Read(r io.Reader) (*List, error) {
	l := &List{Domains: map[string]int{}, seed: maphash.MakeSeed(), seen: map[uint64]uint32{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, tooLong, err := readLine(br)
		if len(line) > 0 || tooLong || err == nil {
			l.Lines++
			if perr := l.add(line, tooLong); perr != nil {
				return l, perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return l, fmt.Errorf("reading the list at line %d: %w", l.Lines+1, err)
		}
	}
	l.seen = nil // only the counts are kept
	return l, nil
}

// readLine reads one line without its end; a line over MaxLine is
// consumed to its end and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		switch {
		case len(line)+len(frag) > MaxLine:
			tooLong = true
		default:
			line = append(line, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

// add judges one line.
func (l *List) add(raw []byte, tooLong bool) error {
	n := l.Lines
	if n == 1 {
		raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		if bytes.HasPrefix(raw, []byte("\xff\xfe")) || bytes.HasPrefix(raw, []byte("\xfe\xff")) {
			return fmt.Errorf("%w: it is UTF-16; save it as UTF-8", ErrNotText)
		}
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return fmt.Errorf("%w: line %d has a NUL byte (a binary file, such as a spreadsheet?)", ErrNotText, n)
	}
	switch {
	case tooLong:
		l.syntax(n, string(raw[:min(len(raw), 60)]), fmt.Sprintf("longer than %d octets", MaxLine))
		return nil
	case !utf8.Valid(raw):
		l.syntax(n, strings.ToValidUTF8(string(raw[:min(len(raw), 60)]), "\uFFFD"), "not UTF-8")
		return nil
	}
	field := firstColumn(string(raw))
	if field == "" || strings.HasPrefix(field, "#") {
		return nil
	}
	if l.Addresses == 0 && l.SyntaxErrors == 0 && !l.HeaderSkipped && !strings.Contains(field, "@") && headerRE.MatchString(field) {
		l.HeaderSkipped = true
		return nil
	}
	a, err := ParseAddress(field)
	if err != nil {
		l.syntax(n, field, strings.TrimPrefix(err.Error(), ErrBadAddress.Error()+": "))
		return nil
	}
	l.Addresses++
	if !l.firstTime(a, n) {
		return nil
	}
	l.Unique++
	if a.Role() {
		l.Roles++
		l.example(&l.RoleExamples, LineProblem{n, a.String(), "role mailbox (RFC 2142)"})
	}
	if _, ok := l.Domains[a.Domain]; ok || len(l.Domains) < MaxDomains {
		l.Domains[a.Domain]++
	} else {
		l.DomainsOverflow++
	}
	return nil
}

// firstTime records the address and reports whether it is new. Addresses
// compare case-insensitively: providers treat local parts so, and a
// recipient listed twice in two cases gets two messages.
func (l *List) firstTime(a Address, line int) bool {
	h := maphash.String(l.seed, strings.ToLower(a.Local)+"@"+a.Domain)
	if first, dup := l.seen[h]; dup {
		l.Duplicates++
		l.example(&l.DupExamples, LineProblem{line, a.String(), fmt.Sprintf("first on line %d", first)})
		return false
	}
	if len(l.seen) >= MaxTracked {
		l.Untracked++
		return true
	}
	l.seen[h] = uint32(min(line, 1<<32-1))
	return true
}

func (l *List) syntax(line int, text, reason string) {
	l.SyntaxErrors++
	l.example(&l.SyntaxExamples, LineProblem{line, text, reason})
}

func (l *List) example(list *[]LineProblem, p LineProblem) {
	if len(*list) < MaxExamples {
		*list = append(*list, p)
	}
}

// firstColumn is the first CSV field of a line (RFC 4180: a field may be
// quoted, with "" for a quote), trimmed; a line without a comma is itself.
func firstColumn(line string) string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, `"`) {
		if i := strings.IndexAny(line, ",;\t"); i >= 0 {
			line = line[:i]
		}
		return strings.TrimSpace(line)
	}
	var b strings.Builder
	for i := 1; i < len(line); i++ {
		if line[i] == '"' {
			if i+1 < len(line) && line[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			break
		}
		b.WriteByte(line[i])
	}
	return strings.TrimSpace(b.String())
}
