package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Env: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuchcommand"},
		{"check"},
		{"check", "a.com", "b.com"},
		{"check", ""},
		{"check", "192.0.2.1"},
		{"check", strings.Repeat("a", 64) + ".com"},
		{"check", "exa mple.com"},
		{"check", "example.com", "--format", "xml"},
		{"check", "example.com", "--resolver", "dns.google"},
		{"check", "example.com", "--timeout", "-1s"},
		{"check", "example.com", "--only", "nosuchpart"},
		{"check", "example.com", "--ip", "999.1.1.1"},
		{"check", "example.com", "--sender", "bob@exa mple.com"},
		{"check", "example.com", "--sender", "nobody"},
		{"check", "example.com", "--no-such-flag"},
		{"explain", "--offline", "--format", "prometheus", "550 5.1.1 User unknown"}, // no host to watch
	} {
		code, _, stderr := runCLI(t, args...)
		if code != report.ExitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, report.ExitUsage, stderr)
		}
		if len(args) > 0 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 && args[0] == "check" {
			t.Errorf("%q: want a one-line error, got %q", args, stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"check", "--help"}, {"help", "check"}, {"version", "--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage") || !strings.Contains(out, "Exit codes") {
			t.Errorf("%q: exit %d, output %q", args, code, out)
		}
	}
	for name := range commands {
		code, out, _ := runCLI(t, name, "--help")
		if code != 0 || !strings.Contains(out, "Usage: mxray "+name) {
			t.Errorf("%s --help: exit %d, output %q", name, code, out)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "mxray ") {
		t.Fatalf("exit %d, %q", code, out)
	}
}

const cliZone = `
example.test.     IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
example.test.     IN MX 10 mx.example.test.
mx.example.test.  IN A 81.2.69.160
160.69.2.81.in-addr.arpa. IN PTR mx.example.test.
`

func TestCheckMXOnlyAgainstDNSTest(t *testing.T) {
	srv := dnstest.Start(t, cliZone)
	code, out, stderr := runCLI(t, "check", "EXAMPLE.test.", "--only", "mx,rdns", "--resolver", srv.Addr, "--format", "json", "--trace")
	if code != report.ExitOK && code != report.ExitWarning {
		t.Fatalf("exit %d; stderr %q; out %s", code, stderr, out)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.SchemaVersion != report.SchemaVersion || rep.Target != "example.test" || rep.Command != "check" {
		t.Fatalf("header: %+v", rep)
	}
	if len(rep.Find("mx.target-ok")) != 1 || len(rep.Find("ptr.ok")) != 1 {
		t.Fatalf("findings: %+v", rep.Findings())
	}
	if len(rep.Trace) == 0 {
		t.Fatal("--trace: no queries recorded")
	}
}

func TestCheckUnreachableResolverIsUnknown(t *testing.T) {
	srv := dnstest.Start(t, cliZone)
	addr := srv.Addr
	srv.Close()
	code, out, _ := runCLI(t, "check", "example.test", "--only", "mx", "--resolver", addr, "--timeout", "3s")
	if code != report.ExitUnknown {
		t.Fatalf("exit %d, want %d (could not check)\n%s", code, report.ExitUnknown, out)
	}
	if !strings.Contains(out, "mx.lookup-failed") {
		t.Fatalf("want mx.lookup-failed in:\n%s", out)
	}
}

// TestCheckLyingResolver: on a resolver that answers NXDOMAIN for
// everything, `mxray check` says the resolver cannot be trusted, names it,
// and exits 3 — not 2 with "does not exist, no SPF, no DMARC".
func TestCheckLyingResolver(t *testing.T) {
	srv := dnstest.Start(t, cliZone)
	srv.SetFaultAll(dnstest.Fault{Rcode: 3}) // NXDOMAIN
	code, out, stderr := runCLI(t, "check", "example.com", "--skip", "smtp,dnsbl", "--resolver", srv.Addr)
	if code != report.ExitUnknown {
		t.Fatalf("exit %d, want %d\n%s%s", code, report.ExitUnknown, out, stderr)
	}
	if !strings.Contains(out, "cannot be trusted") || !strings.Contains(out, srv.Addr) {
		t.Fatalf("the report must say the resolver %s cannot be trusted:\n%s", srv.Addr, out)
	}
	if strings.Contains(out, "does not exist in DNS") {
		t.Fatalf("a lying resolver's NXDOMAIN reported as fact:\n%s", out)
	}
}
