package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	r := New("check", "example.com", "test", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := r.Section("mx", "MX and mail hosts")
	s.Add(Finding{ID: "mx.present", Severity: OK, Summary: "1 MX record(s)"})
	s.Add(Finding{ID: "ptr.missing", Severity: Failure, Subject: "192.0.2.1", Summary: "no PTR",
		Evidence: []string{"1.2.0.192.in-addr.arpa. PTR: nxdomain", "banner: 220 evil\x1b]0;pwned\x07"},
		Cause:    "receivers reject", Fix: "ask the ISP", Publish: []string{"1.2.0.192.in-addr.arpa. IN PTR mx.example.com."},
		References: []string{"RFC 1912 §2.1"}})
	r.Finish(r.StartedAt.Add(1500 * time.Millisecond))
	return r
}

func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		sev  []Severity
		want int
	}{
		{nil, ExitOK},
		{[]Severity{OK, Info}, ExitOK},
		{[]Severity{OK, Warning}, ExitWarning},
		{[]Severity{Warning, Unknown}, ExitUnknown},
		{[]Severity{Unknown, Failure, Warning}, ExitFailure},
	} {
		r := New("check", "x", "", time.Now())
		s := r.Section("s", "S")
		for _, sv := range tt.sev {
			s.Add(Finding{ID: "x", Severity: sv})
		}
		if got := r.ExitCode(); got != tt.want {
			t.Errorf("%v: exit %d, want %d", tt.sev, got, tt.want)
		}
	}
}

func TestWriteTextPlainAndColour(t *testing.T) {
	r := sampleReport()
	var plain, colour bytes.Buffer
	if err := WriteText(&plain, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&colour, r, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	p := plain.String()
	if strings.Contains(p, "\x1b") {
		t.Fatalf("plain output has escape sequences:\n%q", p)
	}
	for _, want := range []string{"[ FAIL ] 192.0.2.1: no PTR (ptr.missing)", "fix: ask the ISP", "publish: 1.2.0.192.in-addr.arpa. IN PTR mx.example.com.",
		"summary: 1 ok, 0 info, 0 warning, 1 failure, 0 unknown in 1.5s", `220 evil\x1b]0;pwned\x07`} {
		if !strings.Contains(p, want) {
			t.Errorf("text output lacks %q:\n%s", want, p)
		}
	}
	c := colour.String()
	if !strings.Contains(c, ansiRed) || strings.Contains(c, "\x1b]0;") {
		t.Fatalf("colour output wrong or passes a remote escape through:\n%q", c)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := sampleReport()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"schema_version": 2`) || !strings.Contains(buf.String(), `"severity": "failure"`) ||
		!strings.Contains(buf.String(), `"duration_ms": 1500`) {
		t.Fatalf("json:\n%s", buf.String())
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.ExitCode() != ExitFailure || back.Summary.Failure != 1 || back.Findings()[1].Publish[0] != r.Findings()[1].Publish[0] {
		t.Fatalf("round trip lost data: %+v", back)
	}
}

// TestJSONEmptyFindingsIsAnArray: a section without findings is written
// with "findings": [], which readers can range over, never null.
func TestJSONEmptyFindingsIsAnArray(t *testing.T) {
	r := New("explain", "argument", "dev", time.Unix(0, 0))
	r.Section("explain", "Input")
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"findings": []`) || strings.Contains(b.String(), `"findings": null`) {
		t.Fatalf("want an empty array:\n%s", b.String())
	}
}
