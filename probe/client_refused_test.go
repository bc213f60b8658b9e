package probe

import (
	"context"
	"strings"
	"testing"

	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// TestClientRefusedProvesNothing: a server that refuses this client at every
// RCPT (blocklisted, no PTR) gives the random recipient and the foreign
// recipient the same 5xx; that says nothing about catch-all or relaying, so
// both tests must come out unknown, never "ok".
func TestClientRefusedProvesNothing(t *testing.T) {
	const blocked = "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org"
	srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		c.Send("220 mx.example.test ESMTP")
		for {
			cmd, ok := c.ReadCommand()
			if !ok {
				return
			}
			switch verb := strings.ToUpper(strings.Fields(cmd + " x")[0]); verb {
			case "EHLO":
				c.Send("250-mx.example.test", "250 ENHANCEDSTATUSCODES")
			case "MAIL":
				c.Send("250 2.1.0 Ok")
			case "RCPT":
				c.Send(blocked)
			case "QUIT":
				c.Send("221 2.0.0 Bye")
				return
			default:
				c.Send("502 5.5.2 Error: command not recognized")
			}
		}
	})
	track(srv.Rec)
	s := DryRun(context.Background(), testConfig(), Target{Host: "mx.example.test", Addr: srv.Addr})
	got := ids(s.Findings(FindingOptions{}))
	for id, sev := range map[string]report.Severity{
		"smtp.postmaster-rejected":        report.Failure,
		"smtp.unknown-recipient-untested": report.Unknown,
		"smtp.relay-untested":             report.Unknown,
		"smtp.vrfy-disabled":              report.OK, // VRFY answered 502
	} {
		if got[id] != sev {
			t.Errorf("%s: got %q, want %s; findings %v", id, got[id], sev, got)
		}
	}
	for _, id := range []string{"smtp.unknown-recipient-rejected", "smtp.relay-denied", "smtp.open-relay", "smtp.catch-all"} {
		if _, ok := got[id]; ok {
			t.Errorf("%s reported although nothing about it was observed; findings %v", id, got)
		}
	}
	smtptest.AssertNoMessage(t, srv.Rec)
}
