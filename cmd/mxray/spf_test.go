package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

const spfCLIZone = `
$ORIGIN example.test.
@        IN SOA ns hostmaster 1 3600 600 86400 300
@        IN MX 10 mx1
@        IN TXT "v=spf1 mx include:_spf.example.test ptr -all"
_spf     IN TXT "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.7 ~all"
mx1      IN A 198.51.100.25

; a healthy blocklist (RFC 5782 §5 test points) that lists 203.0.113.1
$ORIGIN bl.test.
@             IN SOA ns hostmaster 1 3600 600 86400 300
2.0.0.127     IN A 127.0.0.2
1.113.0.203   IN A 127.0.0.2
`

func TestSPFCommand(t *testing.T) {
	srv := dnstest.Start(t, spfCLIZone)
	lists := filepath.Join(t.TempDir(), "lists")
	if err := os.WriteFile(lists, []byte("bl.test:ipv4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("pass via include, text", func(t *testing.T) {
		code, out, stderr := runCLI(t, "spf", "example.test", "--resolver", srv.Addr, "--ip", "192.0.2.9", "--color", "never", "--lists", lists)
		for _, want := range []string{"check_host(192.0.2.9, example.test, postmaster@example.test) = pass",
			"decided by example.test: include:_spf.example.test", "record tree:", "[3/10 lookups, 0/2 void]",
			"└─ include:_spf.example.test [0 lookups, 0 void]", "spf.ptr-deprecated", "spf.overlapping-ip"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// ptr is deprecated (warning) and nothing fails: exit 1.
		if code != report.ExitWarning {
			t.Errorf("exit %d, want %d; stderr %q", code, report.ExitWarning, stderr)
		}
	})
	t.Run("fail, json", func(t *testing.T) {
		code, out, _ := runCLI(t, "spf", "example.test", "--resolver", srv.Addr, "--ip", "203.0.113.1", "--sender", "bob@example.test", "--format", "json", "--lists", lists)
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if rep.Command != "spf" || len(rep.Find("spf.result-fail")) != 1 {
			t.Errorf("command %q, findings %+v", rep.Command, rep.Findings())
		}
		if !strings.Contains(out, `"result": "fail"`) || !strings.Contains(out, `"term": "example.test: -all"`) {
			t.Errorf("JSON lacks the evaluation:\n%s", out)
		}
		if code != report.ExitFailure {
			t.Errorf("exit %d, want %d", code, report.ExitFailure)
		}
		// --ip is checked on the blocklists too.
		if len(rep.Find("dnsbl.listed")) != 1 {
			t.Errorf("blocklist result for --ip missing: %+v", rep.Findings())
		}
	})
	for _, args := range [][]string{
		{"spf"},
		{"spf", "example.test", "--ip", "300.1.1.1"},
		{"spf", "exa mple.test"},
		{"spf", "192.0.2.1"},
		{"spf", "example.test", "--sender", "nobody"},
		{"spf", "example.test", "--sender", "a@b.test"},
		{"spf", "example.test", "--ip", "192.0.2.1", "--helo", "bad name"},
	} {
		code, _, stderr := runCLI(t, append(args, "--resolver", srv.Addr)...)
		if code != report.ExitUsage || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line", args, code, stderr, report.ExitUsage)
		}
	}
}
