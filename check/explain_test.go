package check

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/report/message"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// The follow-up world: zen.spamhaus.org with its RFC 5782 test point, one
// address on the PBL (127.0.0.11), one on the SBL, one clean; a sender
// domain whose SPF does not authorise the address in the bounce; reverse
// DNS for one address and none for another.
const followUpZone = `
2.0.0.127.zen.spamhaus.org.   A   127.0.0.2
9.2.0.192.zen.spamhaus.org.   A   127.0.0.11
9.2.0.192.zen.spamhaus.org.   TXT "https://check.spamhaus.org/query/ip/192.0.2.9"
7.2.0.192.zen.spamhaus.org.   A   127.0.0.2
2.0.0.127.bl.spamcop.net.     A   127.0.0.2
sender.test.                  TXT "v=spf1 ip4:198.51.100.0/24 -all"
_dmarc.sender.test.           TXT "v=DMARC1; p=reject"
10.100.51.198.in-addr.arpa.   PTR mail.sender.test.
mail.sender.test.             A   198.51.100.10
`

func followUpResolver(t *testing.T) (dnscheck.Resolver, *dnstest.Server) {
	t.Helper()
	srv := dnstest.Start(t, followUpZone)
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return res, srv
}

func explainOne(t *testing.T, text string) message.ExplainedReply {
	t.Helper()
	ex := message.ExplainInput([]byte(text), message.ExplainOptions{})
	if len(ex.Replies) != 1 {
		t.Fatalf("%d replies for %q", len(ex.Replies), text)
	}
	return ex.Replies[0]
}

func findingIDs(fs []report.Finding) map[string]report.Finding {
	m := map[string]report.Finding{}
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

func TestFollowUpBlocklist(t *testing.T) {
	res, srv := followUpResolver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name, text string
		id         string
		sev        report.Severity
		summary    string // substring
		fix        string // substring
	}{
		{"still listed on the PBL",
			"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.9",
			"explain.dnsbl-still-listed", report.Failure, "still listed", "provider's relay"},
		{"still listed on the SBL",
			"554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org",
			"explain.dnsbl-still-listed", report.Failure, "still listed", "request removal"},
		{"no longer listed",
			"554 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using zen.spamhaus.org",
			"explain.dnsbl-delisted", report.OK, "no longer listed", "retry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fu := NewFollowUp(res, "", netip.Addr{})
			fs := findingIDs(fu.Reply(ctx, explainOne(t, tc.text)))
			f, ok := fs[tc.id]
			if !ok {
				t.Fatalf("no %s in %+v", tc.id, fs)
			}
			if f.Severity != tc.sev || !strings.Contains(f.Summary, tc.summary) || !strings.Contains(f.Fix, tc.fix) {
				t.Errorf("%+v", f)
			}
		})
	}
	// The rejecting server's own address (in "host mx[IP] said") is not
	// the sender's and must not be queried.
	fu := NewFollowUp(res, "", netip.Addr{})
	ex := message.ExplainInput([]byte("Nov 26 10:00:00 mx postfix/smtp[1]: ABC: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, dsn=5.7.1, status=bounced (host mx.b.example[192.0.2.1] said: 554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org (in reply to RCPT TO command))"), message.ExplainOptions{})
	fs := fu.Reply(ctx, ex.Replies[0])
	if _, ok := findingIDs(fs)["explain.dnsbl-still-listed"]; !ok {
		t.Errorf("log line: %+v", fs)
	}
	for _, q := range srv.Log() {
		if strings.Contains(q, "1.2.0.192.zen") {
			t.Errorf("the remote MTA's address was queried: %s", q)
		}
	}
}

func TestFollowUpUnknownWhenListFails(t *testing.T) {
	res, srv := followUpResolver(t)
	srv.SetFault("9.2.0.192.zen.spamhaus.org.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fs := findingIDs(NewFollowUp(res, "", netip.Addr{}).Reply(ctx, explainOne(t,
		"554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org")))
	f, ok := fs["explain.dnsbl-unknown"]
	if !ok || f.Severity != report.Unknown {
		t.Fatalf("SERVFAIL must be unknown, got %+v", fs)
	}
}

func TestFollowUpAuthAndPTR(t *testing.T) {
	res, srv := followUpResolver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The replies are built here, not taken from the catalog, so the test
	// is about the follow-up alone.
	auth := message.ExplainedReply{Reply: "550 5.7.26 Unauthenticated email from sender.test is not accepted due to domain's DMARC policy. [203.0.113.5]",
		Explanation: catalog.Explanation{Stage: catalog.StageDATA, Code: 550, EnhancedCode: "5.7.26", Reason: "authfailure", Cause: "auth.dmarc-fail"}}
	// SPF: the address of the bounce is not in sender.test's record.
	fs := findingIDs(NewFollowUp(res, "news@sender.test", netip.Addr{}).Reply(ctx, auth))
	if f, ok := fs["explain.spf-now"]; !ok || f.Severity != report.Failure || !strings.Contains(f.Summary, "fail") {
		t.Errorf("SPF follow-up: %+v", fs)
	}
	if _, ok := fs["dmarc.record"]; !ok {
		t.Errorf("no DMARC lookup in %v", keys(fs))
	}
	// --ip inside the record: SPF passes now.
	fs = findingIDs(NewFollowUp(res, "news@sender.test", netip.MustParseAddr("198.51.100.10")).Reply(ctx, auth))
	if f := fs["explain.spf-now"]; f.Severity != report.OK {
		t.Errorf("SPF with --ip in the record: %+v", f)
	}
	// No sender domain known: say so instead of guessing.
	fs = findingIDs(NewFollowUp(res, "", netip.Addr{}).Reply(ctx, auth))
	if _, ok := fs["explain.auth-no-domain"]; !ok || len(fs) != 1 {
		t.Errorf("without a sender: %v", keys(fs))
	}

	// PTR: 203.0.113.5 has none; 198.51.100.10 has a confirmed one.
	ptr := message.ExplainedReply{Reply: "550 5.7.25 [203.0.113.5] The IP address sending this message does not have a PTR record setup",
		Explanation: catalog.Explanation{Stage: catalog.StageRCPT, Code: 550, EnhancedCode: "5.7.25", Reason: "requireptr", Cause: "rdns.missing"}}
	fs = findingIDs(NewFollowUp(res, "", netip.Addr{}).Reply(ctx, ptr))
	if f, ok := fs["ptr.missing"]; !ok || f.Severity != report.Failure {
		t.Errorf("PTR follow-up: %v", keys(fs))
	}
	fs = findingIDs(NewFollowUp(res, "", netip.MustParseAddr("198.51.100.10")).Reply(ctx, ptr))
	if _, ok := fs["ptr.missing"]; ok || len(fs) == 0 {
		t.Errorf("198.51.100.10 has a PTR: %v", keys(fs))
	}
	// Nothing to follow up: no queries at all.
	before := srv.Queries()
	plain := message.ExplainedReply{Reply: "550 5.1.1 user unknown", Explanation: catalog.Explanation{Code: 550, Reason: "userunknown", Cause: "user.unknown"}}
	if fs := NewFollowUp(res, "", netip.Addr{}).Reply(ctx, plain); len(fs) != 0 || srv.Queries() != before {
		t.Errorf("user unknown needs no follow-up: %+v", fs)
	}
}

func keys(m map[string]report.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
