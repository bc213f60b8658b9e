package check

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/maillog"

	"github.com/mxray/mxray/report/message"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// The follow-up world: zen.spamhaus.org with its RFC 5782 test point, one
// address on the PBL (127.0.0.11), one on the SBL, one clean, one for which
// the list answers its "query via a public resolver" error code
// (127.255.255.254); a sender
// domain whose SPF does not authorise the address in the bounce; reverse
// DNS for one address and none for another.
const followUpZone = `
2.0.0.127.zen.spamhaus.org.   A   127.0.0.2
9.2.0.192.zen.spamhaus.org.   A   127.0.0.11
9.2.0.192.zen.spamhaus.org.   TXT "https://check.spamhaus.org/query/ip/192.0.2.9"
7.2.0.192.zen.spamhaus.org.   A   127.0.0.2
8.2.0.192.zen.spamhaus.org.   A   127.255.255.254
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
			"explain.dnsbl-still-listed", report.Failure, "listed now: PBL", "smarthost"},
		{"still listed on the SBL",
			"554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org",
			"explain.dnsbl-still-listed", report.Failure, "listed now: SBL", "request removal"},
		{"no longer listed",
			"554 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using zen.spamhaus.org",
			"explain.dnsbl-delisted", report.OK, "not listed now", "retry"},
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
	g := logGroups(t, "Nov 26 10:00:00 mx postfix/smtp[1]: ABC: to=<a@b.example>, relay=mx.b.example[192.0.2.1]:25, dsn=5.7.1, status=bounced (host mx.b.example[192.0.2.1] said: 554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org (in reply to RCPT TO command))")[0]
	fs := fu.Group(ctx, g)
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

// logGroups reads log text into its groups.
func logGroups(t *testing.T, log string) []*maillog.Group {
	t.Helper()
	var gs maillog.Groups
	err := maillog.NewScanner(strings.NewReader(log), maillog.Options{}).Scan(func(ev *maillog.Event) error {
		gs.Add(ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return gs.List()
}

func keys(m map[string]report.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestVerdict: the headline and the severity of an explained reply follow
// what the named list says now — listed now, not listed now, the list's
// error code, the list unreachable — and the reply's reading moves to the
// evidence; without the follow-up (--offline) the reading stands.
func TestVerdict(t *testing.T) {
	res, srv := followUpResolver(t)
	srv.SetFault("5.2.0.192.zen.spamhaus.org.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply := func(ip string) message.ExplainedReply {
		return explainOne(t, "554 5.7.1 Service unavailable; Client host ["+ip+"] blocked using zen.spamhaus.org")
	}
	tests := []struct {
		name, ip string
		inbound  bool
		sev      report.Severity
		summary  []string // substrings of the headline
	}{
		{"listed now", "192.0.2.9", false, report.Failure, []string{"listed now: PBL", "192.0.2.9"}},
		{"not listed now", "192.0.2.44", false, report.Warning, []string{"not listed now: delisted since, or the receiver's lookup is stale — retry"}},
		{"the list's error code", "192.0.2.8", false, report.Unknown, []string{"the list refused our resolver (127.255.255.254): cannot confirm",
			"Receivers that query through public resolvers get the same code and some MTAs take it for a listing: ask the receiver's postmaster, and check with a DQS key or your own resolver"}},
		{"the list unreachable", "192.0.2.5", false, report.Unknown, []string{"cannot confirm now", "servfail"}},
		{"inbound, listed now", "192.0.2.9", true, report.Info, []string{"the client is listed now: PBL", "this server's refusal holds"}},
		{"inbound, the list's error code", "192.0.2.8", true, report.Warning, []string{"the list refused our resolver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			er := reply(tc.ip)
			main := report.Finding{ID: "explain.blocked", Severity: report.Failure, Summary: er.Summary}
			live := NewFollowUp(res, "", netip.Addr{}).Reply(ctx, er)
			v := Verdict(main, live, tc.inbound)
			if v.Severity != tc.sev {
				t.Errorf("severity %s, want %s: %q", v.Severity, tc.sev, v.Summary)
			}
			for _, want := range tc.summary {
				if !strings.Contains(v.Summary, want) {
					t.Errorf("headline %q lacks %q", v.Summary, want)
				}
			}
			if len(v.Evidence) == 0 || v.Evidence[0] != "the reply said: "+er.Summary {
				t.Errorf("the reply's reading is not in the evidence: %q", v.Evidence)
			}
		})
	}
	// No live evidence: the reply's reading stands.
	main := report.Finding{ID: "explain.blocked", Severity: report.Failure, Summary: "as the reply says"}
	if v := Verdict(main, nil, false); v.Summary != main.Summary || v.Severity != main.Severity || len(v.Evidence) != 0 {
		t.Errorf("offline verdict changed: %+v", v)
	}
}

// TestFollowUpGroupOncePerListAndIP: a log group asks each (list, address)
// once, however many lines name it, and only the addresses the lines name.
func TestFollowUpGroupOncePerListAndIP(t *testing.T) {
	res, srv := followUpResolver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var log strings.Builder
	for i := 0; i < 50; i++ {
		ip := []string{"192.0.2.9", "192.0.2.44"}[i%2]
		fmt.Fprintf(&log, "Nov 26 10:00:%02d mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 Service unavailable; Client host [%s] blocked using zen.spamhaus.org; from=<s%d@spam.test> to=<u@example.org> proto=ESMTP helo=<x>\n", i, ip, ip, i)
	}
	groups := logGroups(t, log.String())
	if len(groups) != 1 || groups[0].Count != 50 {
		t.Fatalf("groups %+v", groups)
	}
	before := srv.Queries()
	fs := findingIDs(NewFollowUp(res, "", netip.Addr{}).Group(ctx, groups[0]))
	if _, ok := fs["explain.dnsbl-still-listed"]; !ok {
		t.Errorf("findings %v", keys(fs))
	}
	if _, ok := fs["explain.dnsbl-delisted"]; !ok {
		t.Errorf("findings %v", keys(fs))
	}
	// Two targets: one A query each (plus one TXT for the listing) and the
	// list's two test points per target — never one query per line.
	if n := srv.Queries() - before; n > 8 {
		t.Errorf("%d queries for 50 lines naming 2 addresses", n)
	}
}

// TestReproduce: a refusal that blames the client names the command that
// repeats it from the sending address.
func TestReproduce(t *testing.T) {
	er := explainOne(t, "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org")
	er.RemoteMTA = "dns; mx.example.net"
	f, ok := Reproduce(er, netip.Addr{})
	if !ok || !strings.Contains(f.Summary, "mxray smtp mx.example.net --source 192.0.2.9") || f.Severity != report.Info {
		t.Errorf("%+v %v", f, ok)
	}
	if f, _ := Reproduce(er, netip.MustParseAddr("198.51.100.3")); !strings.Contains(f.Summary, "--source 198.51.100.3") {
		t.Errorf("--ip not used: %s", f.Summary)
	}
	if _, ok := Reproduce(explainOne(t, "550 5.1.1 <u@example.net>: Recipient address rejected: User unknown"), netip.Addr{}); ok {
		t.Error("a user-unknown reply does not blame the client IP")
	}
	// Greylisting defers the client (reason blocked), but nobody has to
	// act: the retry goes through. Nothing to reproduce, and no warning.
	grey := explainOne(t, "450 4.7.1 <u@example.net>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.net.html")
	if _, ok := Reproduce(grey, netip.MustParseAddr("192.0.2.9")); ok {
		t.Error("a greylisting deferral needs no reproducing")
	}
	if f := replyFinding(grey); f.Severity != report.Info {
		t.Errorf("greylisting: severity %v, want info", f.Severity)
	}
}
