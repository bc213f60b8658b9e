package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

const dmarcCLIZone = `
mail.test.            IN SOA ns.mail.test. hostmaster.mail.test. 1 3600 600 86400 300
mail.test.            IN MX 10 mx.mail.test.
mail.test.            IN TXT "v=spf1 ip4:198.51.100.7 -all"
bounce.mail.test.     IN TXT "v=spf1 ip4:198.51.100.7 -all"
other.test.           IN TXT "v=spf1 ip4:198.51.100.7 -all"
mx.mail.test.         IN A 198.51.100.7
_dmarc.mail.test.     IN TXT "v=DMARC1; p=none; aspf=r; rua=mailto:d@reports.test"
mail.test._report._dmarc.reports.test. IN TXT "v=DMARC1"
s1._domainkey.mail.test. IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
`

func findIDs(t *testing.T, out string) map[string]string {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	ids := map[string]string{}
	for _, f := range rep.Findings() {
		ids[f.ID] = f.Severity.String()
	}
	return ids
}

func TestDMARCCommand(t *testing.T) {
	srv := dnstest.Start(t, dmarcCLIZone)
	tests := []struct {
		name string
		args []string
		code int
		want map[string]string
	}{
		{"policy", []string{"dmarc", "mail.test"}, report.ExitOK, // p=none is info: a valid policy
			map[string]string{"dmarc.record": "ok", "dmarc.policy-none": "info", "dmarc.report-auth": "ok"}},
		{"aligned SPF pass", []string{"dmarc", "mail.test", "--ip", "198.51.100.7", "--sender", "x@bounce.mail.test"}, report.ExitOK,
			map[string]string{"dmarc.spf-aligned": "ok"}},
		{"SPF pass, other domain", []string{"dmarc", "mail.test", "--ip", "198.51.100.7", "--sender", "x@other.test"}, report.ExitWarning,
			map[string]string{"dmarc.spf-not-aligned": "warning"}},
		{"SPF fail", []string{"dmarc", "mail.test", "--ip", "192.0.2.99"}, report.ExitWarning,
			map[string]string{"dmarc.spf-fail": "warning"}},
		{"missing", []string{"dmarc", "nothing.test"}, report.ExitFailure, map[string]string{"dmarc.missing": "failure"}},
		{"dkim given", []string{"dkim", "mail.test", "--selector", "s1"}, report.ExitOK, map[string]string{"dkim.key": "ok"}},
		{"dkim missing", []string{"dkim", "mail.test", "--selector", "nope"}, report.ExitFailure, map[string]string{"dkim.selector-missing": "failure"}},
		{"dkim guessed", []string{"dkim", "mail.test"}, report.ExitOK, map[string]string{"dkim.guessed": "info", "dkim.key": "ok"}},
		{"dkim guessed, none", []string{"dkim", "other.test"}, report.ExitOK, map[string]string{"dkim.none-guessed": "info"}},
		{"check with both parts", []string{"check", "mail.test", "--only", "dmarc,dkim", "--selector", "s1", "--ip", "198.51.100.7"}, -1, // the mx part always runs: its findings set the exit code
			map[string]string{"dkim.key": "ok", "dmarc.policy-none": "info", "dmarc.spf-aligned": "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--resolver", srv.Addr, "--format", "json")
			code, out, stderr := runCLI(t, args...)
			ids := findIDs(t, out)
			if tc.code >= 0 && code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q; findings %v", code, tc.code, stderr, ids)
			}
			for id, sev := range tc.want {
				if ids[id] != sev {
					t.Errorf("%s: %q, want %q; all %v", id, ids[id], sev, ids)
				}
			}
		})
	}
}

func TestDMARCDKIMUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"dmarc"}, {"dmarc", "a.test", "b.test"}, {"dmarc", "a.test", "--ip", "nope"},
		{"dmarc", "a.test", "--sender", "x@a.test"}, {"dmarc", "a.test", "--ip", "192.0.2.1", "--sender", "noat"},
		{"dkim"}, {"dkim", "a.test", "--selector", "bad selector"}, {"dkim", "a.test", "--selector", ""},
		{"check", "a.test", "--selector", "x/y"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != report.ExitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, report.ExitUsage, stderr)
		}
	}
}

func TestDMARCTextOutput(t *testing.T) {
	srv := dnstest.Start(t, dmarcCLIZone)
	_, out, _ := runCLI(t, "dmarc", "mail.test", "--resolver", srv.Addr, "--color", "never", "--ip", "198.51.100.7", "--sender", "a@other.test")
	if testing.Verbose() {
		t.Log("\n" + out)
	}
	for _, want := range []string{"_dmarc.mail.test.", "tree walk", "Organizational Domain", `publish: _dmarc.mail.test. 3600 IN TXT "v=DMARC1; p=quarantine; aspf=r; rua=mailto:d@reports.test"`} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}
