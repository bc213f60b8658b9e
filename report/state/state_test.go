package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report"
)

var t0 = time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC)

// f is a finding in a section, for building reports.
type f struct {
	section, id, subject string
	sev                  report.Severity
	summary              string
}

func reportOf(at time.Time, fs ...f) *report.Report {
	r := report.New("check", "example.com", "test", at)
	for _, x := range fs {
		sum := x.summary
		if sum == "" {
			sum = x.id + " summary"
		}
		r.Section(x.section, x.section).Add(report.Finding{ID: x.id, Severity: x.sev, Subject: x.subject, Summary: sum, Fix: "fix " + x.id})
	}
	r.Finish(at.Add(time.Second))
	return r
}

// baseline is a healthy domain with one lasting warning.
func baseline(at time.Time) *report.Report {
	return reportOf(at,
		f{"mx", "mx.present", "", report.OK, ""},
		f{"spf", "spf.ok", "", report.OK, ""},
		f{"spf", "spf.lookups", "", report.OK, "the SPF tree needs 3/10 lookups"},
		f{"dkim", "dkim.rsa-1024", "google", report.Warning, ""},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""},
	)
}

// run compares rep with the state and returns what --changes prints and
// the next state.
func run(t *testing.T, prev *State, rep *report.Report) (string, *State) {
	t.Helper()
	changes, next := Compare(prev, rep, rep.StartedAt)
	var buf bytes.Buffer
	if prev == nil {
		if err := WriteFirstRun(&buf, rep, "state.json"); err != nil {
			t.Fatal(err)
		}
		return buf.String(), next
	}
	if err := WriteChanges(&buf, rep, prev, changes); err != nil {
		t.Fatal(err)
	}
	return buf.String(), next
}

func TestFirstRunPrintsOneLine(t *testing.T) {
	out, st := run(t, nil, baseline(t0))
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "first run, state recorded in state.json") {
		t.Fatalf("first run printed %q", out)
	}
	if len(st.Known) != 5 {
		t.Fatalf("known %d findings, want 5", len(st.Known))
	}
}

func TestNoChangePrintsNothing(t *testing.T) {
	_, st := run(t, nil, baseline(t0))
	for i := 1; i <= 2; i++ {
		// The summary of an ok finding may change (a count); that is no change.
		rep := baseline(t0.Add(time.Duration(i) * time.Hour))
		rep.Sections[1].Findings[1].Summary = "the SPF tree needs 4/10 lookups"
		var out string
		out, st = run(t, st, rep)
		if out != "" {
			t.Fatalf("run %d printed %q, want nothing", i+1, out)
		}
	}
	if !st.Known[3].Since.Equal(t0) {
		t.Errorf("the lasting warning's since = %v, want the first run's %v", st.Known[3].Since, t0)
	}
}

func TestOneChangePrintsExactlyThatChange(t *testing.T) {
	_, st := run(t, nil, baseline(t0))
	rep := baseline(t0.Add(time.Hour))
	rep.Sections[3].Findings = []report.Finding{{ID: "dnsbl.listed", Severity: report.Failure, Subject: "192.0.2.1",
		Summary: "listed on bl.example.org: spam source", Fix: "request delisting"}}
	rep.Finish(rep.StartedAt.Add(time.Second))
	out, _ := run(t, st, rep)
	want := "mxray check example.com: 1 change since 2026-05-01 06:00 UTC; now 1 failure, 1 warning, 0 unknown, 3 ok/info (exit 2)\n" +
		"  appeared  dnsbl.listed (192.0.2.1): (new) → failure: listed on bl.example.org: spam source\n" +
		"            fix: request delisting\n"
	if out != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", out, want)
	}
}

func TestSeverityChangesAndClears(t *testing.T) {
	_, st := run(t, nil, baseline(t0))
	rep := reportOf(t0.Add(time.Hour),
		f{"mx", "mx.present", "", report.OK, ""},
		f{"spf", "spf.ok", "", report.Failure, ""}, // worsened
		f{"spf", "spf.lookups", "", report.OK, ""},
		// dkim.rsa-1024 cleared; dkim.key appeared at ok (not reported)
		f{"dkim", "dkim.key", "google", report.OK, ""},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""},
	)
	out, st := run(t, st, rep)
	for _, want := range []string{"2 changes", "worsened  spf.ok: ok → failure", "cleared   dkim.rsa-1024 (google): warning → cleared"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dkim.key") {
		t.Errorf("an ok finding that appeared was reported:\n%s", out)
	}
	out, _ = run(t, st, baseline(t0.Add(2*time.Hour)))
	for _, want := range []string{"improved  spf.ok: failure → ok", "appeared  dkim.rsa-1024 (google): (new) → warning"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A lookup that fails once (unknown) is not reported as "cleared" and then
// as "back": the known state is carried over while it cannot be observed.
func TestUnknownDoesNotFlap(t *testing.T) {
	_, st := run(t, nil, baseline(t0))
	for _, tt := range []struct {
		name string
		rep  *report.Report
	}{
		{"whole section unknown", reportOf(t0.Add(time.Hour),
			f{"mx", "mx.present", "", report.OK, ""},
			f{"spf", "spf.lookup-failed", "", report.Unknown, "SERVFAIL"},
			f{"dkim", "dkim.rsa-1024", "google", report.Warning, ""},
			f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""})},
		{"one subject unknown", reportOf(t0.Add(time.Hour),
			f{"mx", "mx.present", "", report.OK, ""},
			f{"spf", "spf.ok", "", report.OK, ""},
			f{"spf", "spf.lookups", "", report.OK, ""},
			f{"dkim", "dkim.lookup-failed", "google", report.Unknown, "timeout"},
			f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""})},
		{"a known finding turns unknown", reportOf(t0.Add(time.Hour),
			f{"mx", "mx.present", "", report.OK, ""},
			f{"spf", "spf.ok", "", report.OK, ""},
			f{"spf", "spf.lookups", "", report.OK, ""},
			f{"dkim", "dkim.rsa-1024", "google", report.Unknown, ""},
			f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""})},
		{"a part did not run", reportOf(t0.Add(time.Hour),
			f{"mx", "mx.present", "", report.OK, ""},
			f{"spf", "spf.ok", "", report.OK, ""},
			f{"spf", "spf.lookups", "", report.OK, ""},
			f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, during := run(t, st, tt.rep)
			if out != "" {
				t.Fatalf("the unknown run printed:\n%s", out)
			}
			if len(during.Known) != len(st.Known) {
				t.Fatalf("known state lost findings while unobserved: %d, want %d", len(during.Known), len(st.Known))
			}
			out, after := run(t, during, baseline(t0.Add(2*time.Hour)))
			if out != "" {
				t.Fatalf("the run after the unknown one printed:\n%s", out)
			}
			if !after.Known[3].Since.Equal(t0) {
				t.Errorf("since of the carried warning = %v, want %v", after.Known[3].Since, t0)
			}
		})
	}
}

// Two listings of one address share id and subject; when one clears, the
// change names the list that cleared.
func TestSameIDAndSubjectArePairedBySummary(t *testing.T) {
	listed := func(lists ...string) *report.Report {
		var fs []f
		for _, l := range lists {
			fs = append(fs, f{"dnsbl", "dnsbl.listed", "192.0.2.1", report.Failure, "listed on " + l})
		}
		return reportOf(t0, fs...)
	}
	_, st := run(t, nil, listed("a.example", "b.example"))
	out, _ := run(t, st, listed("b.example"))
	if !strings.Contains(out, "cleared   dnsbl.listed (192.0.2.1): failure → cleared: listed on a.example") || strings.Count(out, "\n") != 2 {
		t.Fatalf("printed:\n%s", out)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if st, err := Load(path, "check", "example.com"); st != nil || err != nil {
		t.Fatalf("missing file: %v, %v; want a first run", st, err)
	}
	_, st := run(t, nil, baseline(t0))
	if err := Save(path, st); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, "check", "example.com")
	if err != nil || len(back.Known) != len(st.Known) || back.Known[3].ID != "dkim.rsa-1024" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if _, err := Load(path, "check", "example.org"); !errors.Is(err, ErrWrongTarget) {
		t.Errorf("another domain's state: %v", err)
	}

	// A schema-1 report written by `--format json` reads as a state.
	v1 := `{"schema_version": 1, "tool": "mxray", "version": "0.1", "command": "check", "target": "example.com",
	  "started_at": "2026-04-01T00:00:00Z", "duration": 812.4, "summary": {"ok": 1, "info": 0, "warning": 1, "failure": 0, "unknown": 0},
	  "sections": [{"id": "dkim", "title": "DKIM", "findings": [{"id": "dkim.rsa-1024", "severity": "warning", "subject": "google", "summary": "weak"},
	  {"id": "dkim.key", "severity": "ok", "subject": "s1", "summary": "fine"}]}]}`
	os.WriteFile(path, []byte(v1), 0o644)
	back, err = Load(path, "check", "example.com")
	if err != nil || len(back.Known) != 2 || back.Known[0].Severity != report.Warning {
		t.Fatalf("schema 1 report: %+v, %v", back, err)
	}

	for name, doc := range map[string]string{
		"newer schema": `{"schema_version": 99, "tool": "mxray", "kind": "mxray-state", "command": "check", "target": "example.com"}`,
		"not mxray":    `{"schema_version": 1, "tool": "other"}`,
		"not json":     "2026-05-01 all good\n",
		"other kind":   `{"schema_version": 2, "tool": "mxray", "kind": "mxray-changes", "command": "check", "target": "example.com"}`,
	} {
		os.WriteFile(path, []byte(doc), 0o644)
		_, err := Load(path, "check", "example.com")
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err %v, want a message naming the file", name, err)
		}
		if name == "newer schema" && (err == nil || !strings.Contains(err.Error(), "newer mxray")) {
			t.Errorf("newer schema: %v", err)
		}
	}
}

func TestChangesJSON(t *testing.T) {
	_, st := run(t, nil, baseline(t0))
	var buf bytes.Buffer
	if err := WriteChangesJSON(&buf, baseline(t0), st, nil); err != nil || buf.Len() != 0 {
		t.Fatalf("no change: %q, %v", buf.String(), err)
	}
	rep := reportOf(t0, f{"spf", "spf.ok", "", report.Failure, ""})
	changes, _ := Compare(st, rep, t0)
	if err := WriteChangesJSON(&buf, rep, st, changes); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind     string   `json:"kind"`
		ExitCode int      `json:"exit_code"`
		Changes  []Change `json:"changes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || doc.Kind != "mxray-changes" || doc.ExitCode != 2 || len(doc.Changes) == 0 {
		t.Fatalf("%s (%v)", buf.String(), err)
	}
}

// The state file survives a process killed in the middle of writing it:
// the helper process starts saving a new state, says so after the first
// kilobyte, and is killed; the old state must still load, whole.
const helperEnv = "MXRAY_STATE_KILL_HELPER"

func TestSaveSurvivesKillMidWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	_, old := run(t, nil, baseline(t0))
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "mid-write\n" {
		cmd.Process.Kill()
		t.Fatalf("helper said %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the state file changed under a killed writer (%v)", err)
	}
	st, err := Load(path, "check", "example.com")
	if err != nil || len(st.Known) != len(old.Known) {
		t.Fatalf("the old state does not load after the kill: %v", err)
	}
	// The next run saves over it as usual, the stray temporary file aside.
	_, next := run(t, st, baseline(t0.Add(time.Hour)))
	if err := Save(path, next); err != nil {
		t.Fatal(err)
	}
	if st, err := Load(path, "check", "example.com"); err != nil || !st.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("saving after the kill: %v, %v", st, err)
	}
}

// killHelper is the helper process: it saves a large state through a
// writer that stops after the first kilobyte, tells the test, and waits
// to be killed.
func killHelper() int {
	path := os.Getenv(helperEnv)
	rep := baseline(t0.Add(time.Hour))
	rep.Sections[0].Findings[0].Evidence = []string{strings.Repeat("x", 1<<20)}
	_, st := Compare(nil, rep, rep.StartedAt)
	err := save(path, st, func(w io.Writer) io.Writer { return &stallingWriter{w: w} })
	os.Stderr.WriteString("helper was not killed: " + errString(err) + "\n")
	return 1
}

type stallingWriter struct {
	w       io.Writer
	written int
}

func (s *stallingWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.written += n
	if s.written >= 1024 {
		if f, ok := s.w.(interface{ Flush() error }); ok {
			f.Flush() // part of the new state is in the temporary file
		}
		os.Stdout.WriteString("mid-write\n")
		time.Sleep(time.Minute)
	}
	return n, err
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// A listing is named by the address, a list that did not answer by the
// list: the list's unknown finding must still keep the listing from being
// reported as cleared (and then as appeared again on the next run).
func TestUnknownListKeepsTheListing(t *testing.T) {
	listed := reportOf(t0,
		f{"dnsbl", "dnsbl.listed", "192.0.2.1", report.Failure, "listed on bl.example"},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.2", report.OK, ""})
	_, st := run(t, nil, listed)
	blind := reportOf(t0.Add(time.Hour),
		f{"dnsbl", "dnsbl.unknown", "bl.example", report.Unknown, "SERVFAIL"},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.2", report.OK, ""})
	out, during := run(t, st, blind)
	if out != "" {
		t.Fatalf("the run in which the list did not answer printed:\n%s", out)
	}
	out, _ = run(t, during, reportOf(t0.Add(2*time.Hour),
		f{"dnsbl", "dnsbl.listed", "192.0.2.1", report.Failure, "listed on bl.example"},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.2", report.OK, ""}))
	if out != "" {
		t.Fatalf("the listing came back as a change:\n%s", out)
	}
	// Once the section is fully observed, a listing that is gone is cleared.
	out, _ = run(t, during, reportOf(t0.Add(3*time.Hour),
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.1", report.OK, ""},
		f{"dnsbl", "dnsbl.not-listed", "192.0.2.2", report.OK, ""}))
	if !strings.Contains(out, "cleared") {
		t.Fatalf("a listing gone in a fully observed run was not reported cleared:\n%s", out)
	}
}
