//go:debug rsa1024min=0

// (The directive lets the test make a 512-bit RSA key, which crypto/rsa
// refuses by default; preflight must fail the dkim row for it.)

package preflight

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// worldZone is the test world: see its comments.
const worldZone = "../testdata/zones/preflight.zone"

const worldRecipients = "alice@gmail.com\nbob@yahoo.com\ncarol@outlook.com\ndave@example.com\n"

// campaign is a message with every field a bulk sender needs; the tests
// edit and sign it.
func campaign(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/messages/campaign.eml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// worldLists are the test world's blocklists: an IP list, a domain list,
// and Spamhaus ZEN, the one Yahoo documents.
var worldLists = []string{"bl.example.org", "dbl.example.org:domain", "zen.spamhaus.org"}

var worldSigned = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

type world struct {
	srv             *dnstest.Server
	rsa2048, rsa512 *rsa.PrivateKey
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{srv: dnstest.Start(t, testworld.ReadZone(t, worldZone))}
	var err error
	if w.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if w.rsa512, err = rsa.GenerateKey(rand.Reader, 512); err != nil {
		t.Fatal(err)
	}
	for _, rr := range []string{
		testworld.DKIMKeyRecord(t, "s1._domainkey.example.com.", &w.rsa2048.PublicKey),
		testworld.DKIMKeyRecord(t, "short._domainkey.example.com.", &w.rsa512.PublicKey),
		testworld.DKIMKeyRecord(t, "esp._domainkey.esp.example.net.", &w.rsa2048.PublicKey),
	} {
		if err := w.srv.AddRR(rr); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// sign signs a message as d=domain s=selector with the 2048-bit key.
func (w *world) sign(t *testing.T, msg, domain, selector string, fields []string) []byte {
	return testworld.DKIMSign(t, msg, domain, selector, w.rsa2048, fields)
}

func (w *world) run(t *testing.T, opt Options) *Result {
	t.Helper()
	cfg := Config{Resolver: testworld.Client(t, w.srv), Version: "test",
		DNSBL: dnsbl.Selection{Replace: true, Lists: worldLists}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// goodOptions is the campaign that passes every row.
func (w *world) goodOptions(t *testing.T) Options {
	return Options{From: "news@example.com", HELO: "out1.example.com", Volume: -1,
		IPs:        []netip.Addr{netip.MustParseAddr("81.2.69.7"), netip.MustParseAddr("2a00:1450:4001:82a::7")},
		Message:    w.sign(t, campaign(t), "example.com", "s1", worldSigned),
		Recipients: strings.NewReader(worldRecipients), RecipientsName: "list.txt"}
}

func rows(res *Result) map[string]map[string]report.Requirement {
	out := map[string]map[string]report.Requirement{}
	for _, q := range res.Requirements {
		if out[q.ID] == nil {
			out[q.ID] = map[string]report.Requirement{}
		}
		out[q.ID][q.Provider] = q
	}
	return out
}

func TestPreflightPassesEveryRow(t *testing.T) {
	w := newWorld(t)
	res := w.run(t, w.goodOptions(t))
	if len(res.Requirements) != len(RequirementIDs)*3 {
		t.Fatalf("%d rows", len(res.Requirements))
	}
	for _, q := range res.Requirements {
		want := report.ReqPass
		if q.ID == "tls" || q.ID == "spam-rate" {
			want = report.ReqManual
		}
		if q.Status != want {
			t.Errorf("%s %s: %s (%s), want %s", q.Provider, q.ID, q.Status, q.Summary, want)
		}
	}
	if code := res.Report.ExitCode(); code != report.ExitOK {
		t.Errorf("exit %d, want 0; findings:", code)
		for _, f := range res.Report.Findings() {
			if f.Severity >= report.Warning {
				t.Logf("  %s %s: %s", f.Severity, f.ID, f.Summary)
			}
		}
	}
	if n, _ := res.Recipients.Governed("gmail"); n != 1 {
		t.Errorf("gmail governs %d recipients", n)
	}
	q := rows(res)["spam-rate"]["gmail"]
	if q.Reply == nil || q.Reply.Explained == nil || q.Reply.Code != 550 {
		t.Errorf("a manual row carries the provider's reply too: %+v", q)
	}
}

func TestPreflightFailsOneRowAtATime(t *testing.T) {
	w := newWorld(t)
	msg := func(old, new string) func(*testing.T, *Options) {
		return func(t *testing.T, o *Options) {
			o.Message = w.sign(t, strings.Replace(campaign(t), old, new, 1), "example.com", "s1", worldSigned)
		}
	}
	ip := func(a string) func(*testing.T, *Options) {
		return func(t *testing.T, o *Options) { o.IPs = []netip.Addr{netip.MustParseAddr(a)} }
	}
	tests := []struct {
		name   string
		edit   func(*testing.T, *Options)
		row    string
		status report.RequirementStatus
		zone   func(*dnstest.Server)
		also   string // a row that must fail with it
		passes string // a provider whose own rule the case meets (the row passes there)
	}{
		{name: "SPF fail", row: "spf", status: report.ReqFail, edit: ip("81.2.69.20")},
		{name: "SPF permerror", row: "spf", status: report.ReqFail, edit: func(t *testing.T, o *Options) {
			o.MailFrom = "bounce@broken.example.org"
		}},
		{name: "512-bit key", row: "dkim", status: report.ReqFail, edit: func(t *testing.T, o *Options) {
			o.Message, o.Selectors = nil, []string{"short"}
		}},
		{name: "no DMARC", row: "dmarc", status: report.ReqFail, zone: func(s *dnstest.Server) { s.RemoveName("_dmarc.example.com.") }},
		{name: "From not aligned", row: "alignment", status: report.ReqFail, edit: func(t *testing.T, o *Options) {
			o.MailFrom = "bounce@esp.example.net"
			o.Message = w.sign(t, campaign(t), "esp.example.net", "esp", worldSigned)
		}},
		{name: "PTR name does not resolve back", row: "ptr", status: report.ReqFail, edit: ip("81.2.69.11")},
		{name: "no PTR", row: "ptr", status: report.ReqFail, edit: ip("81.2.69.9")},
		{name: "no PTR for IPv6 (Microsoft too)", row: "ptr", status: report.ReqFail, edit: ip("2a00:1450:4001:82a::9")},
		// Yahoo documents Spamhaus only: another list's listing is evidence there.
		{name: "listed IP", row: "blocklists", status: report.ReqFail, edit: ip("81.2.69.10"), passes: "yahoo"},
		{name: "IP listed by Spamhaus", row: "blocklists", status: report.ReqFail, edit: ip("81.2.69.12")},
		// Yahoo finds the message's mailto: URI acceptable; Gmail wants RFC 8058.
		{name: "no One-Click field", row: "one-click-unsubscribe", status: report.ReqFail, passes: "yahoo",
			edit: msg("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n", "")},
		{name: "malformed One-Click field", row: "one-click-unsubscribe", status: report.ReqFail, passes: "yahoo",
			edit: msg("List-Unsubscribe-Post: List-Unsubscribe=One-Click", "List-Unsubscribe-Post: One-Click")},
		{name: "signature does not cover it", row: "one-click-unsubscribe", status: report.ReqFail, passes: "yahoo", edit: func(t *testing.T, o *Options) {
			o.Message = w.sign(t, campaign(t), "example.com", "s1", []string{"From", "To", "Subject", "Date", "Message-ID"})
		}},
		{name: "HTTPS List-Unsubscribe only, no One-Click field", row: "one-click-unsubscribe", status: report.ReqFail,
			edit: msg("List-Unsubscribe: <https://example.com/u/opaque-token>, <mailto:u@example.com>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
				"List-Unsubscribe: <https://example.com/u/opaque-token>\n")},
		{name: "no List-Unsubscribe at all", row: "one-click-unsubscribe", status: report.ReqFail,
			edit: msg("List-Unsubscribe: <https://example.com/u/opaque-token>, <mailto:u@example.com>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n", "")},
		{name: "duplicate Subject", row: "message-format", status: report.ReqFail, edit: msg("Subject: Spring offers\n", "Subject: Spring offers\nSubject: again\n")},
		{name: "From in gmail.com", row: "message-format", status: report.ReqFail, also: "alignment", edit: func(t *testing.T, o *Options) {
			o.From = "news@gmail.com"
			o.MailFrom = "news@example.com"
			o.Message = w.sign(t, strings.Replace(campaign(t), "news@example.com", "news@gmail.com", 1), "example.com", "s1", worldSigned)
		}},

		// DNS failures give unknown, never fail.
		{name: "SPF record SERVFAIL", row: "spf", status: report.ReqUnknown, zone: func(s *dnstest.Server) {
			s.SetFault("example.com.", dns.TypeTXT, dnstest.Fault{Rcode: dns.RcodeServerFailure})
		}},
		{name: "DMARC SERVFAIL", row: "dmarc", status: report.ReqUnknown, zone: func(s *dnstest.Server) {
			s.SetFault("_dmarc.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
		}},
		{name: "PTR timeout", row: "ptr", status: report.ReqUnknown, zone: func(s *dnstest.Server) {
			s.SetFault("7.69.2.81.in-addr.arpa.", 0, dnstest.Fault{Drop: true})
		}},
		{name: "DKIM key SERVFAIL", row: "dkim", status: report.ReqUnknown, zone: func(s *dnstest.Server) {
			s.SetFault("s1._domainkey.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
		}},
		{name: "blocklist REFUSED", row: "blocklists", status: report.ReqUnknown, passes: "yahoo", zone: func(s *dnstest.Server) {
			s.SetFault("7.69.2.81.bl.example.org.", 0, dnstest.Fault{Rcode: dns.RcodeRefused})
		}},
		{name: "Spamhaus REFUSED", row: "blocklists", status: report.ReqUnknown, zone: func(s *dnstest.Server) {
			s.SetFault("7.69.2.81.zen.spamhaus.org.", 0, dnstest.Fault{Rcode: dns.RcodeRefused})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.zone != nil {
				w := newWorld(t) // a world of its own
				tc.zone(w.srv)
				checkOneRow(t, w, tc.edit, tc.row, tc.status, tc.also, tc.passes)
				return
			}
			checkOneRow(t, w, tc.edit, tc.row, tc.status, tc.also, tc.passes)
		})
	}
}

// checkOneRow runs the edited campaign and checks that row has status for
// every provider (but passes for the provider passes names) and that no
// other row fails (but also, when given).
func checkOneRow(t *testing.T, w *world, edit func(*testing.T, *Options), row string, status report.RequirementStatus, also, passes string) {
	t.Helper()
	opt := w.goodOptions(t)
	if edit != nil {
		edit(t, &opt)
	}
	res := w.run(t, opt)
	applies := false
	for _, q := range res.Requirements {
		if q.ID == "ptr" && q.Provider == "microsoft" && row == "ptr" && !opt.IPs[0].Is6() {
			continue // Microsoft judges the reverse DNS of IPv6 senders only; these cases break an IPv4 one
		}
		switch {
		case q.ID == row && q.Provider == passes:
			if q.Status != report.ReqPass {
				t.Errorf("%s %s: %s (%s), want pass: the case meets this provider's own rule", q.Provider, q.ID, q.Status, q.Summary)
			}
			continue
		case q.ID == row && q.Status != status:
			t.Errorf("%s %s: %s (%s), want %s", q.Provider, q.ID, q.Status, q.Summary, status)
		case q.ID != row && q.ID != also && q.Status == report.ReqFail:
			t.Errorf("%s %s fails too: %s", q.Provider, q.ID, q.Summary)
		case q.ID == row && q.Applies:
			applies = true
		}
		if q.ID == row && (q.Status == report.ReqFail || q.Status == report.ReqUnknown) && q.Reply != nil && q.Reply.Explained == nil {
			t.Errorf("%s %s: reply not explained", q.Provider, q.ID)
		}
	}
	want := report.ExitFailure
	if status == report.ReqUnknown {
		want = report.ExitUnknown
	}
	if code := res.Report.ExitCode(); applies && code != want {
		t.Errorf("exit %d, want %d", code, want)
	}
}

func TestPreflightVolume(t *testing.T) {
	w := newWorld(t)
	opt := w.goodOptions(t)
	opt.Message, opt.Recipients = nil, nil
	opt.MailFrom = "bounce@esp.example.net" // SPF passes, but for another domain: not aligned
	opt.Volume = 1000
	res := w.run(t, opt)
	r := rows(res)
	if q := r["alignment"]["gmail"]; q.Applies || q.Status != report.ReqManual {
		t.Errorf("gmail alignment below 5,000 a day: %+v", q)
	}
	if q := r["spf"]["microsoft"]; q.Applies {
		t.Errorf("microsoft spf below its threshold applies: %+v", q)
	}
	if q := r["dmarc"]["yahoo"]; !q.Applies {
		t.Errorf("yahoo names no volume; its bulk rows apply: %+v", q)
	}
	if q := r["dkim"]["gmail"]; q.Applies || q.Status != report.ReqManual {
		t.Errorf("gmail below 5,000: SPF passes, so DKIM is not required: %+v", q)
	}
	opt.Volume = 5000
	opt.MailFrom = ""
	res = w.run(t, opt)
	r = rows(res)
	if !r["dmarc"]["gmail"].Applies || r["dmarc"]["microsoft"].Applies {
		t.Errorf("5,000 a day: Gmail's bulk rules apply (5,000 or more), Microsoft's not (more than 5,000)")
	}
}

// TestReplyExplanations: every documented reply is explained by the
// catalog entry of its own cause, as `mxray explain` would explain it
// (the cause id, not only the reason class: a missing DMARC record is not
// a DMARC policy failure). Each reply needs its expected cause here.
func TestReplyExplanations(t *testing.T) {
	causes := map[replyKey]string{
		{provider.Gmail, "spf", ""}:                                   "auth.spf-fail",
		{provider.Gmail, "spf", "either"}:                             "auth.unauthenticated",
		{provider.Gmail, "dkim", ""}:                                  "auth.dkim-fail",
		{provider.Gmail, "dkim", "either"}:                            "auth.unauthenticated",
		{provider.Gmail, "dmarc", ""}:                                 "auth.dmarc-missing",
		{provider.Gmail, "alignment", ""}:                             "auth.dmarc-alignment",
		{provider.Gmail, "ptr", ""}:                                   "rdns.missing",
		{provider.Gmail, "tls", ""}:                                   "tls.required-for-sender",
		{provider.Gmail, "spam-rate", ""}:                             "rate.unsolicited",
		{provider.Gmail, "blocklists", ""}:                            "reputation.low",
		{provider.Gmail, "message-format", "duplicate"}:               "message.not-rfc5322",
		{provider.Gmail, "message-format", "From-missing"}:            "message.not-rfc5322",
		{provider.Gmail, "message-format", "From-duplicate"}:          "message.not-rfc5322",
		{provider.Gmail, "message-format", "From-multiple-addresses"}: "bounce.multiple-from-addresses",
		{provider.Gmail, "message-format", "From-invalid"}:            "message.from-header",
		{provider.Gmail, "message-format", "Message-ID-missing"}:      "message.not-rfc5322",
		{provider.Gmail, "message-format", "Message-ID-invalid"}:      "message.not-rfc5322",
		{provider.Yahoo, "spf", ""}:                                   "auth.unauthenticated",
		{provider.Yahoo, "dkim", ""}:                                  "auth.unauthenticated",
		{provider.Yahoo, "dmarc", ""}:                                 "policy.provider",
		{provider.Yahoo, "alignment", ""}:                             "policy.provider",
		{provider.Yahoo, "blocklists", ""}:                            "dnsbl.spamhaus",
		{provider.Yahoo, "spam-rate", ""}:                             "reputation.provider-deferral",
		{provider.Microsoft, "spf", ""}:                               "auth.requirements-not-met",
		{provider.Microsoft, "dkim", ""}:                              "auth.requirements-not-met",
		{provider.Microsoft, "dmarc", ""}:                             "auth.requirements-not-met",
		{provider.Microsoft, "alignment", ""}:                         "auth.requirements-not-met",
		{provider.Microsoft, "ptr", ""}:                               "rdns.missing",
		{provider.Microsoft, "blocklists", ""}:                        "ip.provider-blocklist",
	}
	for k := range documented {
		want, ok := causes[k]
		if !ok {
			t.Errorf("%s %s %q: a documented reply without its expected cause in this test", k.provider, k.id, k.variant)
			continue
		}
		var variants []string
		if k.variant != "" {
			variants = []string{k.variant}
		}
		r := replyFor(k.provider, k.id, variants, "example.com", "192.0.2.1")
		if r == nil || r.Explained == nil || r.Explained.Entry == "" || strings.Contains(r.Text, "{") {
			t.Fatalf("%v: %+v", k, r)
		}
		if r.Explained.Cause != want {
			t.Errorf("%s %s %q: the catalog reads %q as %s (entry %s, %s), want %s", k.provider, k.id, k.variant, r.String(),
				r.Explained.Cause, r.Explained.Entry, r.Explained.Reason, want)
		}
	}
	for k := range causes {
		if _, ok := documented[k]; !ok {
			t.Errorf("%v: expected but not documented", k)
		}
	}
}

// TestReplyFitsItsCause: a row whose cause has no documented reply gets
// none, never the requirement's reply for another cause.
func TestReplyFitsItsCause(t *testing.T) {
	for _, tc := range []struct {
		variants []string
		want     string // "" for no reply
	}{
		{[]string{"Date-missing", "missing"}, ""},
		{[]string{"Date-invalid", "invalid"}, ""},
		{[]string{"impersonation"}, ""},
		{[]string{"from-mismatch"}, ""},
		{[]string{"Subject-duplicate", "duplicate"}, "duplicate headers"},
		{[]string{"From-duplicate", "duplicate"}, "multiple From: headers"},
		{[]string{"Message-ID-missing", "missing"}, "Message-ID"},
	} {
		r := replyFor(provider.Gmail, "message-format", tc.variants, "example.com", "192.0.2.1")
		switch {
		case tc.want == "" && r != nil:
			t.Errorf("%v: reply %q, want none (Gmail documents none for this cause)", tc.variants, r.String())
		case tc.want != "" && (r == nil || !strings.Contains(r.Text, tc.want)):
			t.Errorf("%v: reply %v, want one about %q", tc.variants, r, tc.want)
		}
	}
}

// TestPreflightSizeLimits asks the recipients' busiest MX hosts for their
// SIZE limit with EHLO-only sessions (routed to a fake): never MAIL, RCPT
// or DATA.
func TestPreflightSizeLimits(t *testing.T) {
	w := newWorld(t)
	small := smtptest.Start(t, smtptest.Options{Domain: "mx.small.test", MaxMessageBytes: 500})
	big := smtptest.Start(t, smtptest.Options{Domain: "mx.big.test", MaxMessageBytes: 50 << 20})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := big.Addr
		if strings.HasPrefix(addr, "142.250.") { // Gmail's MX in the test world
			target = small.Addr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, target)
	}
	opt := w.goodOptions(t)
	cfg := Config{Resolver: testworld.Client(t, w.srv), SMTP: SMTPOptions{Dial: dial, HELO: "out1.example.com", MaxHosts: 2},
		DNSBL: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.org"}}}
	res, err := Run(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sizes) != 2 {
		t.Fatalf("sizes %+v", res.Sizes)
	}
	ids := map[string]string{}
	for _, f := range res.Report.Find("message.size-over-limit") {
		ids[f.Subject] = f.ID
	}
	for _, f := range res.Report.Find("message.size-ok") {
		ids[f.Subject] = f.ID
	}
	if ids["gmail-smtp-in.l.google.com"] != "message.size-over-limit" || len(ids) != 2 {
		t.Fatalf("size findings %v (%+v)", ids, res.Sizes)
	}
	for _, rec := range []*smtptest.Recorder{small.Rec, big.Rec} {
		for _, v := range rec.Verbs() {
			if v != "EHLO" && v != "QUIT" && v != "STARTTLS" {
				t.Errorf("a SIZE session said %s", v)
			}
		}
	}
	smtptest.AssertNoMessage(t, small.Rec, big.Rec)
	// Skipped: no session at all.
	cfg.SMTP.Skip = true
	opt = w.goodOptions(t)
	if res, err = Run(context.Background(), cfg, opt); err != nil || len(res.Sizes) != 0 {
		t.Fatalf("--no-smtp: %v %+v", err, res.Sizes)
	}
}
