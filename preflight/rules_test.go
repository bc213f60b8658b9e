package preflight

// Tests of single rules of the provider table: what each provider's row
// judges, and when it may not claim a pass or a fail it did not observe.

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
	"github.com/mxray/mxray/preflight/msgcheck"
	"github.com/mxray/mxray/report"
)

// TestUnverifiableSignaturesAreUnknown: when go-msgauth cannot read the
// message, nothing was observed about its signatures: the dkim and
// one-click rows are unknown, never "not DKIM-signed".
func TestUnverifiableSignaturesAreUnknown(t *testing.T) {
	msg, err := msgcheck.Check([]byte(campaign(t)))
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Message: msg, DKIM: &dkim.Verification{Err: "failed to read header: EOF"}}
	for id, f := range map[string]fact{"dkim": dkimFact(res), "one-click-unsubscribe": oneClickFact(res)} {
		if f.status != report.ReqUnknown || !strings.Contains(f.summary, "EOF") {
			t.Errorf("%s: %s (%s), want unknown with the reason", id, f.status, f.summary)
		}
	}
}

// TestPreflightHeaderOnlyMessage: a signed message without a body (RFC
// 5322 §3.5 allows it, with no empty line after the header) is verified,
// and every row it decides passes.
func TestPreflightHeaderOnlyMessage(t *testing.T) {
	w := newWorld(t)
	header, _, _ := strings.Cut(campaign(t), "\n\n")
	signed := w.sign(t, header+"\n\n", "example.com", "s1", worldSigned)
	opt := w.goodOptions(t)
	opt.Message = bytes.TrimSuffix(signed, []byte("\n"))
	res := w.run(t, opt)
	r := rows(res)
	for _, id := range []string{"dkim", "one-click-unsubscribe", "message-format", "alignment"} {
		for p, q := range r[id] {
			if q.Status != report.ReqPass {
				t.Errorf("%s %s: %s (%s)", p, id, q.Status, q.Summary)
			}
		}
	}
}

// TestGmailEitherNeverClaimsAnUncheckedFail: below 5,000 a day Gmail asks
// for SPF or DKIM. With SPF failing and DKIM never checked (no message, no
// selector), "neither passes" is not known: the row is unknown, not fail.
// With DKIM checked and failing too, it fails.
func TestGmailEitherNeverClaimsAnUncheckedFail(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.IPs = []netip.Addr{netip.MustParseAddr("81.2.69.20")} // outside SPF
	opt.Message, opt.Recipients, opt.Volume = nil, nil, 100
	r := rows(w.run(t, opt))
	if q := r["spf"]["gmail"]; q.Status != report.ReqUnknown || !q.Applies || strings.Contains(q.Note, "neither passes") {
		t.Errorf("gmail spf with dkim unchecked: %s (%s; note %q)", q.Status, q.Summary, q.Note)
	}
	if q := r["dkim"]["gmail"]; q.Status != report.ReqManual {
		t.Errorf("gmail dkim unchecked: %s (%s)", q.Status, q.Summary)
	}
	// DKIM checked and failing (a 512-bit key): both fail, so the rule does.
	opt.Selectors = []string{"short"}
	r = rows(w.run(t, opt))
	if q := r["spf"]["gmail"]; q.Status != report.ReqFail || !strings.Contains(q.Note, "neither passes") || q.Reply == nil || q.Reply.Enhanced != "5.7.26" {
		t.Errorf("gmail spf with dkim failing: %s (%s; note %q; reply %v)", q.Status, q.Summary, q.Note, q.Reply)
	}
	// DKIM passing: SPF is not required of this sender.
	opt.Selectors = []string{"s1"}
	r = rows(w.run(t, opt))
	if q := r["spf"]["gmail"]; q.Applies || q.Status != report.ReqFail {
		t.Errorf("gmail spf with dkim passing: applies %v, %s", q.Applies, q.Status)
	}
	if q := r["dkim"]["gmail"]; !q.Applies || q.Status != report.ReqPass || strings.Contains(q.Note, "neither") {
		t.Errorf("gmail dkim passing: applies %v, %s, note %q", q.Applies, q.Status, q.Note)
	}
}

// TestMessageFromIsJudged: receivers judge the message's own From. A
// message whose From is in another domain than --from is judged for that
// domain (DMARC, alignment), and the mismatch fails message-format.
func TestMessageFromIsJudged(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.Recipients = nil
	opt.Message = w.sign(t, strings.Replace(campaign(t), "From: News <news@example.com>", "From: News <news@esp.example.net>", 1),
		"example.com", "s1", worldSigned)
	res := w.run(t, opt)
	if res.From.String() != "news@esp.example.net" || res.GivenFrom != "news@example.com" || res.DMARC.Domain != "esp.example.net" {
		t.Fatalf("judged From %s (given %q), DMARC for %s", res.From, res.GivenFrom, res.DMARC.Domain)
	}
	r := rows(res)
	for _, id := range []string{"dmarc", "alignment", "message-format"} {
		if q := r[id]["gmail"]; q.Status != report.ReqFail {
			t.Errorf("%s: %s (%s), want fail", id, q.Status, q.Summary)
		}
	}
	if q := r["message-format"]["gmail"]; !strings.Contains(q.Summary, "--from news@example.com") {
		t.Errorf("message-format does not name the mismatch: %s", q.Summary)
	}
	if fs := res.Report.Find("message.from-mismatch"); len(fs) != 1 || fs[0].Severity != report.Failure {
		t.Errorf("mismatch finding: %+v", fs)
	}
	// The same domain with another local part is no mismatch.
	opt.Message = w.sign(t, strings.Replace(campaign(t), "news@example.com", "offers@example.com", 1), "example.com", "s1", worldSigned)
	res = w.run(t, opt)
	if res.GivenFrom != "" || len(res.Report.Find("message.from-mismatch")) > 0 || rows(res)["message-format"]["gmail"].Status != report.ReqPass {
		t.Errorf("same domain: given %q, %+v", res.GivenFrom, rows(res)["message-format"]["gmail"])
	}
}

// TestGenericPTRIsEvidenceOnly: the providers ask for a PTR that resolves
// back; a generic name that does is a warning in the evidence, and the
// ptr row passes.
func TestGenericPTRIsEvidenceOnly(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.IPs = []netip.Addr{netip.MustParseAddr("81.2.69.8")} // 8-69-2-81.dyn.isp.example.net, forward-confirmed
	res := w.run(t, opt)
	for p, q := range rows(res)["ptr"] {
		if q.Status != report.ReqPass {
			t.Errorf("%s ptr: %s (%s)", p, q.Status, q.Summary)
		}
	}
	if fs := res.Report.Find("ptr.generic"); len(fs) != 1 || fs[0].Severity != report.Warning {
		t.Errorf("ptr.generic evidence: %+v", fs)
	}
	if q := rows(res)["ptr"]["gmail"]; !slices.Contains(q.Findings, "ptr.generic") {
		t.Errorf("the row does not point at the evidence: %v", q.Findings)
	}
}

// TestYahooBlocklistsAreSpamhaus: Yahoo documents refusing IPs that
// Spamhaus lists; its row is decided by the Spamhaus answers for the
// sending IPs alone, with Yahoo's [BL21] reply, and is unknown when no
// Spamhaus list was queried.
func TestYahooBlocklistsAreSpamhaus(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.IPs = []netip.Addr{netip.MustParseAddr("81.2.69.12")} // listed by ZEN
	q := rows(w.run(t, opt))["blocklists"]["yahoo"]
	if q.Status != report.ReqFail || q.Reply == nil || q.Reply.Code != 553 || !strings.Contains(q.Reply.Text, "81.2.69.12") ||
		q.Reply.Explained == nil || q.Reply.Explained.Cause != "dnsbl.spamhaus" {
		t.Errorf("listed by Spamhaus: %s (%s), reply %+v", q.Status, q.Summary, q.Reply)
	}
	opt.IPs = []netip.Addr{netip.MustParseAddr("81.2.69.10")} // listed on bl.example.org only
	q = rows(w.run(t, opt))["blocklists"]["yahoo"]
	if q.Status != report.ReqPass || !strings.Contains(q.Summary, "evidence only") {
		t.Errorf("listed elsewhere: %s (%s)", q.Status, q.Summary)
	}
	cfg := Config{Resolver: testworld.Client(t, w.srv), DNSBL: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.org"}}}
	opt = w.goodOptions(t)
	res, err := Run(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if q := rows(res)["blocklists"]["yahoo"]; q.Status != report.ReqUnknown || !strings.Contains(q.Summary, "--list zen.spamhaus.org") {
		t.Errorf("no Spamhaus list: %s (%s)", q.Status, q.Summary)
	}
}

// TestYahooUnsubscribe: Yahoo accepts a mailto: List-Unsubscribe (and
// recommends RFC 8058); Gmail requires RFC 8058 one-click of bulk senders.
func TestYahooUnsubscribe(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.Message = w.sign(t, strings.Replace(campaign(t), "List-Unsubscribe: <https://example.com/u/opaque-token>, <mailto:u@example.com>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
		"List-Unsubscribe: <mailto:u@example.com?subject=unsubscribe>\n", 1), "example.com", "s1", worldSigned)
	r := rows(w.run(t, opt))["one-click-unsubscribe"]
	if q := r["yahoo"]; q.Status != report.ReqPass || !strings.Contains(q.Summary, "highly recommended") {
		t.Errorf("yahoo with mailto only: %s (%s)", q.Status, q.Summary)
	}
	if q := r["gmail"]; q.Status != report.ReqFail {
		t.Errorf("gmail with mailto only: %s (%s)", q.Status, q.Summary)
	}
}

// TestAlignmentWithoutDMARCRecord: when the DMARC lookup fails, aspf and
// adkim are not known. An alignment that holds only under relaxed
// alignment (d=mail.example.com for From example.com) is unknown; one that
// holds strictly too (d=example.com) passes.
func TestAlignmentWithoutDMARCRecord(t *testing.T) {
	w := newWorld(t)
	if err := w.srv.AddRR(testworld.DKIMKeyRecord(t, "s1._domainkey.mail.example.com.", &w.rsa2048.PublicKey)); err != nil {
		t.Fatal(err)
	}
	w.srv.SetFault("_dmarc.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	opt := w.goodOptions(t)
	opt.Recipients = nil
	opt.MailFrom = "bounce@esp.example.net" // SPF passes, for another organization
	opt.Message = w.sign(t, campaign(t), "mail.example.com", "s1", worldSigned)
	res := w.run(t, opt)
	if q := rows(res)["alignment"]["gmail"]; q.Status != report.ReqUnknown || !strings.Contains(q.Summary, "relaxed alignment only") {
		t.Errorf("relaxed-only alignment, DMARC unknown: %s (%s)", q.Status, q.Summary)
	}
	if fs := res.Report.Find("alignment.dkim"); len(fs) != 1 || fs[0].Severity != report.Unknown {
		t.Errorf("alignment.dkim evidence: %+v", fs)
	}
	opt.Message = w.sign(t, campaign(t), "example.com", "s1", worldSigned)
	if q := rows(w.run(t, opt))["alignment"]["gmail"]; q.Status != report.ReqPass {
		t.Errorf("strict alignment too, DMARC unknown: %s (%s)", q.Status, q.Summary)
	}
}

// TestUncheckedRowsAreAWarning: rows manual only because --message or
// --selector was not given are named in one warning (exit 1): exit 0 must
// never be read as "all clear" when DKIM was never looked at.
func TestUncheckedRowsAreAWarning(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.Message, opt.Recipients = nil, nil
	res := w.run(t, opt)
	fs := res.Report.Find("preflight.not-checked")
	if len(fs) != 1 || fs[0].Severity != report.Warning ||
		!strings.HasPrefix(fs[0].Summary, "3 requirements were not checked: give --message or --selector; --message") {
		t.Fatalf("not-checked finding: %+v", fs)
	}
	if ev := strings.Join(fs[0].Evidence, "\n"); !strings.Contains(ev, "dkim (Gmail, Yahoo/AOL, Microsoft): give --message or --selector") ||
		!strings.Contains(ev, "one-click-unsubscribe (Gmail, Yahoo/AOL)") || !strings.Contains(ev, "message-format (Gmail, Yahoo/AOL)") {
		t.Errorf("evidence:\n%s", ev)
	}
	if code := res.Report.ExitCode(); code != report.ExitWarning {
		t.Errorf("exit %d, want %d", code, report.ExitWarning)
	}
	// With both inputs every row is checked, and nothing is named.
	opt = w.goodOptions(t)
	opt.Recipients = nil
	opt.Selectors = []string{"s1"}
	if res := w.run(t, opt); len(res.Report.Find("preflight.not-checked")) != 0 || res.Report.ExitCode() != report.ExitOK {
		t.Errorf("everything given: exit %d, %+v", res.Report.ExitCode(), res.Report.Find("preflight.not-checked"))
	}
}
