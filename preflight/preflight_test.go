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

func TestReplyExplanations(t *testing.T) {
	allowed := map[string][]string{
		"spf": {"authfailure"}, "dkim": {"authfailure"}, "dmarc": {"authfailure", "policyviolation"},
		"alignment": {"authfailure", "policyviolation"}, "ptr": {"requireptr"}, "blocklists": {"blocked", "badreputation"},
		"spam-rate": {"badreputation", "spamdetected"}, "tls": {"failedstarttls", "securityerror"},
		"message-format": {"notcompliantrfc", "policyviolation"},
	}
	for k := range documented {
		r := replyFor(k.provider, k.id, k.variant, "example.com", "192.0.2.1")
		if r == nil || r.Explained == nil || r.Explained.Entry == "" || strings.Contains(r.Text, "{") {
			t.Fatalf("%v: %+v", k, r)
		}
		ok := false
		for _, reason := range allowed[k.id] {
			ok = ok || r.Explained.Reason == reason
		}
		if !ok {
			t.Errorf("%s %s %s: the catalog reads %q as %s (%s)", k.provider, k.id, k.variant, r.String(), r.Explained.Reason, r.Explained.Entry)
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
