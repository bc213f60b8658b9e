package main

import (
	"encoding/json"
	"net"
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

// --source opens the session from another local address: a fake bound to
// a second loopback address sees the client come from it, and refuses
// that address the way a DNSBL-checking MX does.
func TestSMTPSource(t *testing.T) {
	seen := make(chan string, 4)
	mx := smtptest.StartRawAt(t, "127.0.0.2", func(c *smtptest.RawConn) {
		host, _, _ := net.SplitHostPort(c.RemoteAddr())
		seen <- host
		c.Send("220 mx.source.test ESMTP")
		for {
			l, ok := c.ReadCommand()
			if !ok {
				return
			}
			switch verb := strings.ToUpper(strings.Fields(l + " x")[0]); {
			case verb == "EHLO":
				c.Send("250-mx.source.test", "250 ENHANCEDSTATUSCODES")
			case verb == "RCPT" && host == "127.0.0.3":
				c.Send("554 5.7.1 Service unavailable; Client host [" + host + "] blocked using zen.spamhaus.org")
			case verb == "QUIT":
				c.Send("221 2.0.0 Bye")
				return
			default:
				c.Send("250 2.0.0 OK")
			}
		}
	})
	defer smtptest.AssertNoMessage(t, mx.Rec)
	dnsSrv := dnstest.Start(t, cliZone)
	args := func(extra ...string) []string {
		return append([]string{"smtp", mx.Addr, "--domain", "source.test", "--helo", "probe.mxray.test", "--no-catch-all",
			"--no-relay-test", "--no-vrfy", "--format", "json", "--resolver", dnsSrv.Addr}, extra...)
	}
	code, out, stderr := runCLI(t, args("--source", "127.0.0.3")...)
	if got := <-seen; got != "127.0.0.3" {
		t.Fatalf("the fake saw the client at %s, want 127.0.0.3", got)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v (exit %d, stderr %q)", err, code, stderr)
	}
	if len(rep.Find("smtp.source")) != 1 || len(rep.Find("smtp.postmaster-rejected")) != 1 || code != report.ExitFailure {
		t.Errorf("exit %d, findings %+v", code, rep.Findings())
	}
	if !strings.Contains(out, `"local_addr": "127.0.0.3:`) || !strings.Contains(out, "blocked using zen.spamhaus.org") {
		t.Errorf("the transcript does not show the session from 127.0.0.3 and its refusal:\n%s", out)
	}
	// Without --source the same fake accepts (the default route's address).
	code, _, _ = runCLI(t, args()...)
	if got := <-seen; got == "127.0.0.3" || code == report.ExitFailure {
		t.Errorf("without --source: client %s, exit %d", got, code)
	}
	// An address that is not this machine's, a non-address, a family the
	// target does not have: usage errors before any connection.
	for _, bad := range []string{"192.0.2.7", "nonsense", "::1", "0.0.0.0"} {
		code, _, stderr := runCLI(t, args("--source", bad)...)
		if code != report.ExitUsage || !strings.Contains(stderr, "source") {
			t.Errorf("--source %s: exit %d, stderr %q", bad, code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, args("--source", "192.0.2.7")...); !strings.Contains(stderr, "not an address of this machine") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	select {
	case h := <-seen:
		t.Errorf("a refused --source still connected (from %s)", h)
	default:
	}
}
