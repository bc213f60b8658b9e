package check

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestDomainList(t *testing.T) {
	list := "\uFEFFexample.com\r\n" +
		"\n" +
		"# a comment line\n" +
		"   # an indented comment\n" +
		"Example.ORG.  # trailing comment\n" +
		"bücher.de\n" +
		"shop.example.net,Customer 7,\"gold, yearly\"\n" +
		"\"quoted.example.com\",x\n" +
		"\"quo\"\"ted\",x\n" +
		"\"unclosed.example.com,x\n" +
		"domain,owner\n" +
		"not a domain\n" +
		"192.0.2.1\n" +
		",empty first column\n" +
		strings.Repeat("x", MaxListLine+10) + "\n" +
		"last.example.com" // no final newline
	type want struct {
		line   int
		domain string
		bad    bool
	}
	wants := []want{
		{1, "example.com", false},
		{5, "example.org", false},
		{6, "xn--bcher-kva.de", false},
		{7, "shop.example.net", false},
		{8, "quoted.example.com", false},
		{9, "", true},  // quo"ted
		{10, "", true}, // the quote is not closed
		{11, "", true}, // a CSV header: a single label
		{12, "", true},
		{13, "", true}, // an IP address
		{14, "", true}, // empty first column
		{15, "", true}, // too long
		{16, "last.example.com", false},
	}
	l := NewDomainList(strings.NewReader(list))
	for _, w := range wants {
		e, err := l.Next()
		if err != nil {
			t.Fatalf("line %d: %v", w.line, err)
		}
		if e.Line != w.line || e.Domain != w.domain || (e.Err != nil) != w.bad {
			t.Errorf("got line %d %q err %v; want line %d %q bad=%v", e.Line, e.Domain, e.Err, w.line, w.domain, w.bad)
		}
		if e.Err != nil && !strings.Contains(e.Err.Error(), "line ") {
			t.Errorf("the error must name the line: %v", e.Err)
		}
		if len(e.Input) > maxInputShown+len("…") {
			t.Errorf("line %d: input not clipped (%d octets)", e.Line, len(e.Input))
		}
	}
	if _, err := l.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last line: %v", err)
	}
}

// TestDomainListReadError: a failing reader ends the list with its error
// (after the lines read before it), never with a silent EOF.
func TestDomainListReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	l := NewDomainList(io.MultiReader(strings.NewReader("a.example.com\n"), errReader{boom}))
	if e, err := l.Next(); err != nil || e.Domain != "a.example.com" {
		t.Fatalf("%+v %v", e, err)
	}
	if _, err := l.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// FuzzDomainList: whatever the bytes, the list never panics, counts lines
// upward, and gives every entry either a normalised domain or an error that
// names its line — nothing is dropped silently and nothing is half-valid.
func FuzzDomainList(f *testing.F) {
	for _, seed := range []string{"example.com\n", "\"a,b\",c\r\n# x\n\n", "\uFEFFbücher.de", "\"unclosed\n,\n", strings.Repeat("a", 70000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, list string) {
		l := NewDomainList(strings.NewReader(list))
		last := 0
		for {
			e, err := l.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("read error from a string: %v", err)
			}
			if e.Line <= last {
				t.Fatalf("line %d after line %d", e.Line, last)
			}
			last = e.Line
			switch {
			case e.Err == nil && e.Domain == "":
				t.Fatalf("line %d: neither a domain nor an error", e.Line)
			case e.Err != nil && e.Domain != "":
				t.Fatalf("line %d: a domain and an error", e.Line)
			case e.Err != nil && !strings.Contains(e.Err.Error(), fmt.Sprintf("line %d", e.Line)):
				t.Fatalf("the error does not name line %d: %v", e.Line, e.Err)
			}
		}
	})
}
