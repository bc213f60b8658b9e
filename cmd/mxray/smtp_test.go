package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

func TestSMTPCommand(t *testing.T) {
	dnsSrv := dnstest.Start(t, cliZone)
	mx := smtptest.Start(t, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}})
	defer smtptest.AssertNoMessage(t, mx.Rec)

	t.Run("text with transcript", func(t *testing.T) {
		code, out, stderr := runCLI(t, "smtp", mx.Addr, "--domain", "example.test", "--helo", "probe.mxray.test",
			"--resolver", dnsSrv.Addr, "--transcript", "--color", "never", "--rcpt", "nobody@example.test")
		if code != report.ExitFailure { // nobody@ is refused: a failure of that recipient
			t.Errorf("exit %d; stderr %q", code, stderr)
		}
		for _, want := range []string{"C: EHLO probe.mxray.test", "C: RCPT TO:<postmaster@example.test>", "S: 250",
			"smtp.starttls-missing", "smtp.rcpt", "C: QUIT"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, stderr := runCLI(t, "smtp", mx.Addr, "--domain", "example.test", "--helo", "probe.mxray.test",
			"--resolver", dnsSrv.Addr, "--format", "json")
		if code != report.ExitWarning {
			t.Errorf("exit %d; stderr %q", code, stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		if rep.Command != "smtp" || len(rep.Find("smtp.postmaster-accepted")) != 1 {
			t.Errorf("report %+v", rep.Findings())
		}
		if !strings.Contains(out, `"transcript"`) || !strings.Contains(out, `"received_at"`) || !strings.Contains(out, `"explanation"`) {
			t.Errorf("JSON lacks the transcript: %s", out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"smtp"}, {"smtp", "a.test", "b.test"}, {"smtp", "mx.test:99999"}, {"smtp", "mx.test", "--tls", "maybe"},
			{"smtp", "mx.test", "--rcpt", "nobody"}, {"smtp", "mx.test", "--from", "x"}, {"smtp", "mx.test", "--helo", "a b"},
			{"check", "example.test", "--rcpt", "bad"}, {"smtp", "mx.test", "--auth", "alice"},
			{"smtp", "mx.test", "--implicit-tls", "--starttls"},
		} {
			if code, _, _ := runCLI(t, args...); code != report.ExitUsage {
				t.Errorf("%q: exit %d, want %d", args, code, report.ExitUsage)
			}
		}
	})
}
