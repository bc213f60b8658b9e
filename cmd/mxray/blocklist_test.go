package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

const blocklistWorld = `
2.0.0.127.zen.spamhaus.org.  A 127.0.0.2
2.0.0.81.zen.spamhaus.org.   A 127.0.0.2
2.0.0.81.zen.spamhaus.org.   TXT "Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL000001"
254.1.0.81.zen.spamhaus.org. A 127.255.255.254
2.0.0.127.bl.example.net.    A 127.0.0.2
5.0.0.81.bl.example.net.     A 127.0.0.5
dbltest.com.dbl.spamhaus.org. A 127.0.1.2
`

func runCLIIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Env: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func TestBlocklistCommand(t *testing.T) {
	srv := dnstest.Start(t, blocklistWorld)
	lists := filepath.Join(t.TempDir(), "lists")
	if err := os.WriteFile(lists, []byte("zen.spamhaus.org\ndbl.spamhaus.org # domains\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonLists := filepath.Join(t.TempDir(), "lists.json")
	if err := os.WriteFile(jsonLists, []byte(`{"lists": [{"zone": "bl.example.net", "name": "Example BL", "kind": ["ipv4"],
		"codes": [{"code": "127.0.0.5", "meaning": "example reason five"}], "delist_url": "https://bl.example.net/remove?ip={target}"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		exit   int
		ids    []string
		notIDs []string
	}{
		{name: "listed", args: []string{"81.0.0.2"}, exit: report.ExitFailure, ids: []string{"dnsbl.listed"}},
		{name: "clean IP and domain", args: []string{"81.0.0.3", "example.com"}, exit: report.ExitOK, ids: []string{"dnsbl.not-listed"}, notIDs: []string{"dnsbl.listed"}},
		{name: "public resolver code is unknown", args: []string{"81.0.1.254"}, exit: report.ExitUnknown, ids: []string{"dnsbl.refused"}, notIDs: []string{"dnsbl.listed"}},
		{name: "stdin", stdin: "81.0.0.2 # listed\n\nexample.com\nnot..valid\n", args: []string{"-"}, exit: report.ExitFailure, ids: []string{"dnsbl.listed", "dnsbl.not-listed", "dnsbl.bad-target"}},
		{name: "JSON definitions", args: []string{"81.0.0.5", "--lists", jsonLists}, exit: report.ExitFailure, ids: []string{"dnsbl.listed"}},
		{name: "defunct list named", args: []string{"81.0.0.3", "--list", "dnsbl.sorbs.net"}, exit: report.ExitOK, ids: []string{"dnsbl.skipped"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"blocklist", "--resolver", srv.Addr, "--lists", lists, "--format", "json"}, tc.args...)
			code, out, stderr := runCLIIn(t, tc.stdin, args...)
			if code != tc.exit {
				t.Errorf("exit %d, want %d; stderr %q; out %s", code, tc.exit, stderr, out)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			for _, id := range tc.ids {
				if len(rep.Find(id)) == 0 {
					t.Errorf("no %s finding in %s", id, out)
				}
			}
			for _, id := range tc.notIDs {
				if len(rep.Find(id)) != 0 {
					t.Errorf("unexpected %s finding: %+v", id, rep.Find(id))
				}
			}
		})
	}
	// A DQS key never appears in the output, --trace included.
	code, out, _ := runCLIIn(t, "", "blocklist", "--resolver", srv.Addr, "--list", "zen.spamhaus.org", "--dqs-key", "Secr3tKey", "--trace", "--format", "json", "81.0.0.2")
	if strings.Contains(strings.ToLower(out), "secr3tkey") || !strings.Contains(out, "<dqs-key>") {
		t.Errorf("DQS key in the output:\n%s", out)
	}
	// Text output names the list, the meaning and the TXT reason.
	code, out, _ = runCLIIn(t, "", "blocklist", "--resolver", srv.Addr, "--lists", lists, "--color", "never", "81.0.0.2")
	if code != report.ExitFailure || !strings.Contains(out, "Spamhaus ZEN") || !strings.Contains(out, "SBL000001") || !strings.Contains(out, "check.spamhaus.org") {
		t.Errorf("text output:\n%s", out)
	}
	t.Logf("text output:\n%s", out)
}

func TestBlocklistCatalog(t *testing.T) {
	code, out, _ := runCLIIn(t, "", "blocklist", "--catalog", "--color", "never")
	if code != report.ExitOK || !strings.Contains(out, "zen.spamhaus.org") || !strings.Contains(out, "dnsbl.sorbs.net") || !strings.Contains(out, "defunct (since 2024-06-05)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestBlocklistUsage(t *testing.T) {
	for _, args := range [][]string{
		{"blocklist"},
		{"blocklist", "not an ip"},
		{"blocklist", "81.0.0.2", "--list", "not a zone"},
		{"blocklist", "81.0.0.2", "--lists", "/nonexistent/file"},
		{"blocklist", "81.0.0.2", "--dqs-key", "bad key"},
		{"blocklist", "-"}, // empty stdin
		{"check", "example.com", "--list", "zen.spamhaus.org:smtp"},
	} {
		code, _, stderr := runCLIIn(t, "", args...)
		if code != report.ExitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, report.ExitUsage, stderr)
		}
	}
}
