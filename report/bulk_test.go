package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestWriteJSONLine: each report is one line that parses on its own as the
// same document WriteJSON writes (jsonlines.org: UTF-8, one value a line).
func TestWriteJSONLine(t *testing.T) {
	var buf bytes.Buffer
	a := sampleReport()
	b := New("check", "line\nbreak.example", "test", time.Unix(0, 0).UTC())
	b.Finish(b.StartedAt)
	for _, r := range []*Report{a, b} {
		if err := WriteJSONLine(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	var targets []string
	for sc.Scan() {
		var r Report
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		targets = append(targets, r.Target)
	}
	if strings.Join(targets, "|") != "example.com|line\nbreak.example" {
		t.Fatalf("targets %q", targets)
	}
	var indented, line bytes.Buffer
	WriteJSON(&indented, a)
	WriteJSONLine(&line, a)
	var x, y any
	json.Unmarshal(indented.Bytes(), &x)
	json.Unmarshal(line.Bytes(), &y)
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	if !bytes.Equal(xs, ys) {
		t.Error("a JSON line is not the same document as WriteJSON's")
	}
}

func TestSummaryTable(t *testing.T) {
	var buf bytes.Buffer
	tab := NewSummaryTable(&buf, TextOptions{})
	ok := New("check", "fine.example", "test", time.Now())
	ok.Section("mx", "MX").Add(Finding{ID: "mx.present", Severity: OK, Summary: "1 MX"})
	ok.Finish(time.Now())
	bad := sampleReport()
	hostile := New("check", "evil\x1b]0;pwned\x07.example", "test", time.Now())
	hostile.Section("input", "The domain list").Add(Finding{ID: "input.bad-line", Severity: Unknown, Summary: strings.Repeat("long ", 50)})
	hostile.Finish(time.Now())
	for _, r := range []*Report{ok, bad, hostile} {
		if err := tab.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"STATUS", "ok       fine.example", "failure  example.com", "unknown  evil\\x1b]0;pwned\\x07.example", "total: 3 domains: 1 ok, 0 warning, 1 failure, 1 unknown"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d: %q, want prefix %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], " -") || !strings.Contains(lines[2], "ptr.missing: no PTR") {
		t.Errorf("worst findings: %q / %q", lines[1], lines[2])
	}
	if n := len([]rune(lines[3])); n > 200 {
		t.Errorf("row not clipped: %d runes", n)
	}
	if strings.ContainsAny(buf.String(), "\x1b\x07") {
		t.Error("control characters from a domain list reached the terminal")
	}
}
