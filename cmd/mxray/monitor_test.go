package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

const monitorZone = cliZone + `
example.test.        IN TXT "v=spf1 mx -all"
_dmarc.example.test. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
`

// checkArgs runs the DNS parts of mxray check against the test world.
func checkArgs(srv *dnstest.Server, extra ...string) []string {
	return append([]string{"check", "example.test", "--only", "mx,rdns,spf,dmarc", "--resolver", srv.Addr, "--timeout", "5s"}, extra...)
}

// The cron scenario end to end: a first run records the state, runs
// without change print nothing, a change prints exactly that change, and a
// lookup that fails (unknown) neither clears nor brings back anything.
func TestCheckStateChanges(t *testing.T) {
	srv := dnstest.Start(t, monitorZone)
	path := filepath.Join(t.TempDir(), "example.test.state")
	run := func(wantExit int) string {
		t.Helper()
		code, out, stderr := runCLI(t, checkArgs(srv, "--state", path, "--changes")...)
		if code != wantExit {
			t.Fatalf("exit %d, want %d; stderr %q; out:\n%s", code, wantExit, stderr, out)
		}
		return out
	}
	if out := run(report.ExitOK); strings.Count(out, "\n") != 1 || !strings.Contains(out, "first run, state recorded in "+path) {
		t.Fatalf("first run printed:\n%s", out)
	}
	if out := run(report.ExitOK); out != "" {
		t.Fatalf("a run without change printed:\n%s", out)
	}

	// The DMARC record is deleted: exactly that change.
	srv.RemoveName("_dmarc.example.test.")
	out := run(report.ExitFailure)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "mxray check example.test: 1 change since ") ||
		!strings.HasPrefix(lines[1], "  appeared  dmarc.missing: (new) → failure: ") ||
		len(lines) != 3 || !strings.Contains(lines[2], "fix: ") {
		t.Fatalf("the change printed:\n%s", out)
	}
	if out := run(report.ExitFailure); out != "" {
		t.Fatalf("the same failure again printed:\n%s", out)
	}

	// The lookup fails: unknown now, nothing printed, exit 3 as without --changes.
	srv.SetFault("_dmarc.example.test.", dns.TypeTXT, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	if out := run(report.ExitUnknown); out != "" {
		t.Fatalf("an unknown run printed:\n%s", out)
	}
	srv.ClearFaults()
	if out := run(report.ExitFailure); out != "" {
		t.Fatalf("the failure 'came back' after an unknown run:\n%s", out)
	}

	// The record is back: the failure clears; a later failed lookup does not
	// bring it back, nor clear anything.
	if err := srv.AddRR(`_dmarc.example.test. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"`); err != nil {
		t.Fatal(err)
	}
	if out := run(report.ExitOK); !strings.Contains(out, "cleared   dmarc.missing: failure → cleared") || strings.Count(out, "\n") != 2 {
		t.Fatalf("the clearing printed:\n%s", out)
	}
	srv.SetFault("_dmarc.example.test.", dns.TypeTXT, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	run(report.ExitUnknown)
	srv.ClearFaults()
	if out := run(report.ExitOK); out != "" {
		t.Fatalf("flapping after an unknown run:\n%s", out)
	}
}

func TestCheckStateWithoutChangesPrintsTheReport(t *testing.T) {
	srv := dnstest.Start(t, monitorZone)
	path := filepath.Join(t.TempDir(), "state.json")
	code, out, _ := runCLI(t, checkArgs(srv, "--state", path)...)
	if code != report.ExitOK || !strings.Contains(out, "summary:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no state saved: %v", err)
	}
	// Another domain's state file is refused before anything runs.
	code, _, stderr := runCLI(t, "check", "other.test", "--only", "mx", "--resolver", srv.Addr, "--state", path, "--changes")
	if code != report.ExitUsage || !strings.Contains(stderr, "not of 'mxray check other.test'") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestCheckNagiosFormat(t *testing.T) {
	srv := dnstest.Start(t, monitorZone)
	code, out, stderr := runCLI(t, checkArgs(srv, "--format", "nagios", "-w", "21:", "-c", "7:")...)
	if code != report.ExitOK || !strings.HasPrefix(out, "MXRAY CHECK OK - example.test: ") || !strings.Contains(out, "'spf_lookups'=1;8;10;0") {
		t.Fatalf("exit %d, stderr %q:\n%s", code, stderr, out)
	}
	srv.RemoveName("_dmarc.example.test.")
	code, out, _ = runCLI(t, checkArgs(srv, "--format", "nagios")...)
	if code != report.ExitFailure || !strings.HasPrefix(out, "MXRAY CHECK CRITICAL - example.test: 1 failure: dmarc.missing") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCheckPrometheusOutputFile(t *testing.T) {
	srv := dnstest.Start(t, monitorZone)
	path := filepath.Join(t.TempDir(), "mxray.prom")
	code, out, stderr := runCLI(t, checkArgs(srv, "--format", "prometheus", "--output", path)...)
	if code != report.ExitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# TYPE mxray_check_success gauge\n", `mxray_check_success{domain="example.test"} 1`, `mxray_spf_dns_lookups{domain="example.test"} 1`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q:\n%s", path, want, data)
		}
	}
}

func TestMonitoringUsageErrors(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.json")
	os.WriteFile(newer, []byte(`{"schema_version": 99, "tool": "mxray", "kind": "mxray-state", "command": "check", "target": "example.com"}`), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "example.com", "--changes"}, "--changes needs --state"},
		{[]string{"check", "example.com", "-w", "21:"}, "go with --format nagios"},
		{[]string{"check", "example.com", "--format", "nagios", "-c", "x:"}, "--critical"},
		{[]string{"check", "example.com", "--format", "nagios", "--state", newer, "--changes"}, "not nagios"},
		{[]string{"check", "example.com", "--state", newer, "--changes", "--output", filepath.Join(dir, "o")}, "drop --output"},
		{[]string{"check", "example.com", "--state", newer}, "newer mxray"},
	} {
		code, _, stderr := runCLI(t, tt.args...)
		want := report.ExitUsage
		if nagiosRequested(tt.args) {
			want = report.ExitUnknown // a plugin's usage error (TestNagiosUsageErrors)
		}
		if code != want || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and a one-line error with %q", tt.args, code, stderr, want, tt.want)
		}
	}
}

// TestNagiosUsageErrors: a plugin answers on stdout with 0-3 whatever goes
// wrong (Monitoring Plugins guidelines): a bad argument is UNKNOWN, exit 3,
// with the reason, not exit 64 and a line on stderr that Nagios never shows.
func TestNagiosUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"check", "bad..domain", "--format", "nagios"},
		{"check", "example.test", "--format=nagios", "--bogus"},
		{"check", "example.test", "--format", "nagios", "-w", "abc"},
	} {
		code, out, _ := runCLI(t, args...)
		if code != report.ExitUnknown || !strings.HasPrefix(out, "MXRAY CHECK UNKNOWN - ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q; want one UNKNOWN line and exit 3", args, code, out)
		}
	}
	// Without --format nagios a usage error stays a usage error.
	if code, _, _ := runCLI(t, "check", "bad..domain"); code != report.ExitUsage {
		t.Errorf("plain usage error: exit %d", code)
	}
}
