package dnsbl

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// dnsblWorld emulates blocklists on loopback: Spamhaus ZEN with every return
// code and the three error codes, the DBL, URIBL and SURBL with their
// bitmasks and test points, a dead wildcarded list, a list that does not
// answer its test point, a parked zone answering outside 127/8, a list that
// times out, and ZEN through a DQS key.
const dnsblWorld = `
; --- Spamhaus ZEN: RFC 5782 test points (127.0.0.2 listed, 127.0.0.1 not; IPv6 ::ffff:7f00:2)
2.0.0.127.zen.spamhaus.org.  A 127.0.0.2
2.0.0.127.zen.spamhaus.org.  A 127.0.0.4
2.0.0.127.zen.spamhaus.org.  A 127.0.0.10
2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org. A 127.0.0.2
; one target per return code: 81.0.0.N answers 127.0.0.N
2.0.0.81.zen.spamhaus.org.   A 127.0.0.2
2.0.0.81.zen.spamhaus.org.   TXT "Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL000001"
3.0.0.81.zen.spamhaus.org.   A 127.0.0.3
4.0.0.81.zen.spamhaus.org.   A 127.0.0.4
9.0.0.81.zen.spamhaus.org.   A 127.0.0.2
9.0.0.81.zen.spamhaus.org.   A 127.0.0.9
6.0.0.81.zen.spamhaus.org.   A 127.0.0.6
77.0.0.81.zen.spamhaus.org.  A 127.0.0.77
10.0.0.81.zen.spamhaus.org.  A 127.0.0.10
11.0.0.81.zen.spamhaus.org.  A 127.0.0.11
30.0.0.81.zen.spamhaus.org.  A 127.0.0.30
; the error codes: typo, public resolver, rate limit
252.1.0.81.zen.spamhaus.org. A 127.255.255.252
254.1.0.81.zen.spamhaus.org. A 127.255.255.254
255.1.0.81.zen.spamhaus.org. A 127.255.255.255
; IPv6 2a01:4f8:1:2::25 (nibbles), listed as CSS
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.f.4.0.1.0.a.2.zen.spamhaus.org. A 127.0.0.3

; --- Spamhaus DBL: its test point is dbltest.com
dbltest.com.dbl.spamhaus.org.     A 127.0.1.2
spam.example.dbl.spamhaus.org.    A 127.0.1.2
phish.example.dbl.spamhaus.org.   A 127.0.1.4
phish.example.dbl.spamhaus.org.   TXT "https://check.spamhaus.org/results/?query=phish.example"

; --- URIBL: bitmask 2 black, 4 grey, 8 red; test point test.uribl.com (14 = all three)
test.uribl.com.multi.uribl.com.   A 127.0.0.14
black.example.multi.uribl.com.    A 127.0.0.2
greyred.example.multi.uribl.com.  A 127.0.0.12

; --- SURBL: bitmask; 80 = MW (16) + ABUSE (64)
test.surbl.org.multi.surbl.org.   A 127.0.0.254
mixed.example.multi.surbl.org.    A 127.0.0.80

; --- SpamCop: plain RFC 5782 list
2.0.0.127.bl.spamcop.net.         A 127.0.0.2
2.0.0.81.bl.spamcop.net.          A 127.0.0.2

; --- AHBL, shut down and wildcarded: lists everything
*.dnsbl.ahbl.org.                 A 127.0.0.2

; --- a parked zone: answers a web server's address for everything
*.parked.example.                 A 192.0.2.80

; --- a list that does not list its positive test point (an unregistered resolver, a dead list)
quiet.example.                    SOA ns.quiet.example. hostmaster.quiet.example. 1 3600 600 86400 300

; --- a list whose target query times out (faults are set in the test)
2.0.0.127.slow.example.           A 127.0.0.2

; --- ZEN through a Spamhaus DQS key
2.0.0.127.k3y.zen.dq.spamhaus.net. A 127.0.0.2
2.0.0.81.k3y.zen.dq.spamhaus.net.  A 127.0.0.2
2.0.0.81.k3y.zen.dq.spamhaus.net.  TXT "k3y.zen.dq.spamhaus.net: listed"
`

func dnsblTestClient(t testing.TB, srv *dnstest.Server) *dnscheck.Client {
	t.Helper()
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 150 * time.Millisecond, MaxInFlight: 256})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustDNSBL(t testing.TB, zone string) List {
	t.Helper()
	l, ok := ByZone(zone)
	if !ok {
		t.Fatalf("%s not in the catalog", zone)
	}
	return l
}

func genericDNSBL(t testing.TB, spec string) List {
	t.Helper()
	l, err := parseDNSBLSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDNSBLCatalogValid(t *testing.T) {
	lists, pub, err := parseDNSBLCatalog(dnsblCatalogJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) < 20 {
		t.Errorf("only %d public resolver addresses", len(pub))
	}
	defaults := DefaultLists()
	if len(defaults) < 5 {
		t.Errorf("only %d default lists", len(defaults))
	}
	for _, l := range defaults {
		if l.Status != "active" || l.NeedsKey {
			t.Errorf("default list %s is %s (needs key %v)", l.Zone, l.Status, l.NeedsKey)
		}
	}
	for _, l := range lists {
		if l.Defunct() && l.Default {
			t.Errorf("defunct %s queried by default", l.Zone)
		}
		if l.Status == "active" && l.DelistURL == "" {
			t.Errorf("active %s has no delisting page", l.Zone)
		}
		if l.Status != "active" && l.StatusNote() == "" {
			t.Errorf("%s: no status note", l.Zone)
		}
	}
	for _, z := range []string{"dnsbl.sorbs.net", "dnsbl.ahbl.org", "relays.ordb.org", "list.dsbl.org", "dnsbl.njabl.org"} {
		if l, ok := ByZone(z); !ok || !l.Defunct() {
			t.Errorf("%s: want a defunct catalog entry, got %+v %v", z, l.Status, ok)
		}
	}
}

func TestDNSBLByZone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"zen.spamhaus.org", "zen.spamhaus.org"},
		{"ZEN.Spamhaus.ORG.", "zen.spamhaus.org"},
		{"0123456789abcdefghijklmnop.zen.dq.spamhaus.net", "zen.spamhaus.org"},
		{"zen.dq.spamhaus.net", "zen.spamhaus.org"},
		{"k3y.dbl.dq.spamhaus.net", "dbl.spamhaus.org"},
		{"dbl.spamhaus.org", "dbl.spamhaus.org"},
		{"pbl.spamhaus.org", "pbl.spamhaus.org"},
		{"b.barracudacentral.org", "b.barracudacentral.org"},
		{"spam.dnsbl.sorbs.net", "dnsbl.sorbs.net"},
		{"dul.dnsbl.sorbs.net", "dnsbl.sorbs.net"},
		{"rhsbl.ahbl.org", "dnsbl.ahbl.org"},
		{"multi.uribl.com", "multi.uribl.com"},
		{"example.com", ""},
		{"", ""},
		{"a.b.zen.dq.spamhaus.net", ""}, // a key is one label
	} {
		t.Run(tc.in, func(t *testing.T) {
			l, ok := ByZone(tc.in)
			if got := map[bool]string{true: l.Zone, false: ""}[ok]; got != tc.want {
				t.Errorf("DNSBLByZone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	sorbs, _ := ByZone("dnsbl.sorbs.net")
	if n := sorbs.StatusNote(); !strings.Contains(n, "defunct") || !strings.Contains(n, "2024-06-05") {
		t.Errorf("SORBS note: %q", n)
	}
}

func TestReverseIP(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.99", "99.2.0.192"},
		{"127.0.0.2", "2.0.0.127"},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
		{"::ffff:7f00:2", "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"},
	} {
		if got := dnsblReverseIP(netip.MustParseAddr(tc.in)); got != tc.want {
			t.Errorf("dnsblReverseIP(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestQueryDNSBL(t *testing.T) {
	srv := dnstest.Start(t, dnsblWorld)
	srv.SetFault("2.0.0.81.slow.example.", 0, dnstest.Fault{Drop: true})
	srv.SetFault("1.0.0.127.slow.example.", 0, dnstest.Fault{Drop: true})
	zen := mustDNSBL(t, "zen.spamhaus.org")
	dbl := mustDNSBL(t, "dbl.spamhaus.org")
	uribl := mustDNSBL(t, "multi.uribl.com")
	surbl := mustDNSBL(t, "multi.surbl.org")
	ahbl := mustDNSBL(t, "dnsbl.ahbl.org")
	ahbl.Status = "active" // queried on purpose: the health check must catch it

	for _, tc := range []struct {
		name      string
		list      List
		target    string
		status    string
		meaning   []string // substrings of the meanings, in order
		reason    string   // substring of the reason
		refused   bool
		unhealthy bool
		txt       string
	}{
		{name: "zen SBL", list: zen, target: "81.0.0.2", status: Listed, meaning: []string{"SBL: Spamhaus Block List"}, txt: "SBL000001"},
		{name: "zen CSS", list: zen, target: "81.0.0.3", status: Listed, meaning: []string{"SBL CSS"}},
		{name: "zen XBL", list: zen, target: "81.0.0.4", status: Listed, meaning: []string{"XBL: exploited host"}},
		{name: "zen DROP", list: zen, target: "81.0.0.9", status: Listed, meaning: []string{"SBL", "DROP/EDROP"}},
		{name: "zen PBL ISP", list: zen, target: "81.0.0.10", status: Listed, meaning: []string{"PBL (set by the ISP)"}},
		{name: "zen PBL Spamhaus", list: zen, target: "81.0.0.11", status: Listed, meaning: []string{"PBL (set by Spamhaus)"}},
		{name: "zen BCL", list: zen, target: "81.0.0.30", status: Listed, meaning: []string{"BCL"}},
		{name: "zen XBL range", list: zen, target: "81.0.0.6", status: Listed, meaning: []string{"XBL (currently unused code)"}},
		{name: "zen undocumented code", list: zen, target: "81.0.0.77", status: Listed, meaning: []string{"not documented"}},
		{name: "zen not listed", list: zen, target: "81.0.0.99", status: NotListed},
		{name: "zen 4in6 is IPv4", list: zen, target: "::ffff:81.0.0.2", status: Listed, meaning: []string{"SBL"}},
		{name: "spamhaus typo code", list: zen, target: "81.0.1.252", status: Unknown, reason: "typing error in the DNSBL zone name"},
		{name: "spamhaus public resolver code", list: zen, target: "81.0.1.254", status: Unknown, reason: "public/open resolver", refused: true},
		{name: "spamhaus rate limit code", list: zen, target: "81.0.1.255", status: Unknown, reason: "excessive number of queries", refused: true},
		{name: "zen IPv6 listed", list: zen, target: "2a01:4f8:1:2::25", status: Listed, meaning: []string{"SBL CSS"}},
		{name: "zen IPv6 not listed", list: zen, target: "2a01:4f8:1:2::26", status: NotListed},
		{name: "dbl low reputation", list: dbl, target: "spam.example", status: Listed, meaning: []string{"low-reputation domain"}},
		{name: "dbl phishing host name", list: dbl, target: "PHISH.example.", status: Listed, meaning: []string{"phishing domain"}, txt: "phish.example"},
		{name: "dbl clean", list: dbl, target: "clean.example", status: NotListed},
		{name: "dbl does not take IPs", list: dbl, target: "81.0.0.2", status: Unknown, reason: "not ipv4"},
		{name: "zen does not take domains", list: zen, target: "spam.example", status: Unknown, reason: "not domain"},
		{name: "uribl black", list: uribl, target: "black.example", status: Listed, meaning: []string{"black"}},
		{name: "uribl grey+red bits", list: uribl, target: "www.greyred.example", status: Listed, meaning: []string{"grey", "red"}},
		{name: "surbl bitmask", list: surbl, target: "a.b.mixed.example", status: Listed, meaning: []string{"MW: malware", "ABUSE"}},
		{name: "dead wildcard list", list: ahbl, target: "81.0.0.99", status: Unknown, unhealthy: true, reason: "lists everything"},
		{name: "parked zone outside 127/8", list: genericDNSBL(t, "parked.example"), target: "81.0.0.2", status: Unknown, reason: "outside 127.0.0.0/8"},
		{name: "list not answering its test point", list: genericDNSBL(t, "quiet.example"), target: "81.0.0.2", status: Unknown, unhealthy: true, reason: "must always be listed"},
		{name: "list times out", list: genericDNSBL(t, "slow.example"), target: "81.0.0.2", status: Unknown, reason: "timeout"},
		{name: "bad target", list: zen, target: "not an ip", status: Unknown, reason: "invalid domain name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res := Query(ctx, dnsblTestClient(t, srv), tc.list, tc.target)
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s (reason %q, codes %v, evidence %v)", res.Status, tc.status, res.Reason, res.Codes, res.Evidence)
			}
			if len(res.Meanings) != len(tc.meaning) {
				t.Fatalf("meanings %q, want %d like %q", res.Meanings, len(tc.meaning), tc.meaning)
			}
			for i, m := range tc.meaning {
				if !strings.Contains(res.Meanings[i], m) {
					t.Errorf("meaning %d = %q, want it to contain %q", i, res.Meanings[i], m)
				}
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", res.Reason, tc.reason)
			}
			if res.Refused != tc.refused || res.Unhealthy != tc.unhealthy {
				t.Errorf("refused %v unhealthy %v, want %v %v (%s)", res.Refused, res.Unhealthy, tc.refused, tc.unhealthy, res.Reason)
			}
			if tc.txt != "" && !strings.Contains(strings.Join(res.TXT, " "), tc.txt) {
				t.Errorf("TXT %q, want %q", res.TXT, tc.txt)
			}
			if tc.status == Listed && tc.list.DelistURL != "" && (res.DelistURL == "" || strings.Contains(res.DelistURL, "{target}")) {
				t.Errorf("delist URL %q", res.DelistURL)
			}
		})
	}
}

// TestDNSBLRefusingWorld: a resolver that URIBL, SURBL and Spamhaus refuse.
// URIBL answers 127.0.0.1 to every query, its test point included; Spamhaus
// answers 127.255.255.254 to everything. Nothing may come out "listed".
func TestDNSBLRefusingWorld(t *testing.T) {
	srv := dnstest.Start(t, `
*.multi.uribl.com.   A   127.0.0.1
*.multi.uribl.com.   TXT "127.0.0.1 -> Query Refused. See https://uribl.com/refused.shtml for more information [Your DNS IP: 8.8.8.8]"
*.multi.surbl.org.   A   127.0.0.1
*.zen.spamhaus.org.  A   127.255.255.254
*.dbl.spamhaus.org.  A   127.255.255.254
`)
	lists, _, err := Select(Selection{Replace: true, Lists: []string{"multi.uribl.com", "multi.surbl.org", "zen.spamhaus.org", "dbl.spamhaus.org"}})
	if err != nil {
		t.Fatal(err)
	}
	ch := NewChecker(dnsblTestClient(t, srv), Options{Servers: []string{"8.8.8.8:53"}})
	rep := ch.Check(context.Background(), lists, []string{"81.0.0.2", "black.example", "2a01:4f8:1:2::25"})
	if len(rep.Results) != 5 { // 81.0.0.2 and the IPv6 address on zen; black.example on uribl, surbl, dbl
		t.Errorf("%d results, want 5: %+v", len(rep.Results), rep.Results)
	}
	for _, r := range rep.Results {
		if r.Status != Unknown || !r.Refused {
			t.Errorf("%s on %s: %s refused=%v (%s), want unknown and refused", r.Target, r.Zone, r.Status, r.Refused, r.Reason)
		}
	}
	fs := rep.Findings()
	ids := map[string]int{}
	for _, f := range fs {
		ids[f.ID]++
		if f.ID == "dnsbl.listed" {
			t.Errorf("a refusal reported as a listing: %+v", f)
		}
	}
	if ids["dnsbl.public-resolver"] != 1 {
		t.Errorf("want the public-resolver warning: %v", ids)
	}
	if ids["dnsbl.refused"] != 4 { // one per list: zen (both targets grouped), uribl, surbl, dbl
		t.Errorf("want 4 dnsbl.refused findings (one per list), got %v", ids)
	}
	for _, f := range fs {
		if f.ID == "dnsbl.refused" && !strings.Contains(f.Fix, "--dqs-key") {
			t.Errorf("refused finding without the resolver fix: %+v", f)
		}
	}
}

func TestDNSBLCheckHealthOncePerRun(t *testing.T) {
	srv := dnstest.Start(t, dnsblWorld)
	lists := []List{mustDNSBL(t, "zen.spamhaus.org"), mustDNSBL(t, "bl.spamcop.net"), mustDNSBL(t, "dbl.spamhaus.org")}
	ch := NewChecker(dnsblTestClient(t, srv), Options{Servers: []string{"127.0.0.1:53"}})
	targets := []string{"81.0.0.2", "81.0.0.3", "81.0.0.99", "81.0.0.2", "spam.example", "clean.example", "nonsense..x"}
	rep := ch.Check(context.Background(), lists, targets)
	if len(rep.Targets) != 5 || len(rep.BadTargets) != 1 {
		t.Errorf("targets %v bad %v", rep.Targets, rep.BadTargets)
	}
	if len(rep.Results) != 3*2+2*1 {
		t.Errorf("%d results, want 8", len(rep.Results))
	}
	counts := map[string]int{}
	for _, q := range srv.Log() {
		counts[q]++
	}
	for _, q := range []string{"2.0.0.127.zen.spamhaus.org. A", "1.0.0.127.zen.spamhaus.org. A", "dbltest.com.dbl.spamhaus.org. A", "invalid.dbl.spamhaus.org. A"} {
		if counts[q] != 1 {
			t.Errorf("%s queried %d times, want once per run", q, counts[q])
		}
	}
	if counts["2.0.0.81.zen.spamhaus.org. TXT"] != 1 || counts["99.0.0.81.zen.spamhaus.org. TXT"] != 0 {
		t.Errorf("TXT must be fetched for listed entries only: %v", counts)
	}
	for _, h := range rep.Health {
		if !h.OK {
			t.Errorf("health %s/%s: %s", h.Zone, h.Kind, h.Reason)
		}
	}
	fs := rep.Findings()
	var listed, clean, public int
	for _, f := range fs {
		switch f.ID {
		case "dnsbl.listed":
			listed++
			if f.Severity != report.Failure || f.Fix == "" || len(f.Evidence) == 0 {
				t.Errorf("listed finding incomplete: %+v", f)
			}
		case "dnsbl.not-listed":
			clean++
		case "dnsbl.public-resolver":
			public++
		}
	}
	// 81.0.0.2 on zen and spamcop, 81.0.0.3 on zen, spam.example on dbl.
	if listed != 4 || clean != 3 || public != 0 {
		t.Errorf("listed %d (want 4), clean %d (want 3), public %d (want 0): %+v", listed, clean, public, fs)
	}
	only4 := ch.Check(context.Background(), []List{mustDNSBL(t, "bl.spamcop.net")}, []string{"2a01:4f8:1:2::25"})
	if f := only4.Findings(); len(f) != 1 || f[0].ID != "dnsbl.no-list" {
		t.Errorf("an IPv6 target with only IPv4 lists: %+v", f)
	}
	if lines := rep.DetailLines(); len(lines) != 1+len(rep.Results) {
		t.Errorf("detail lines: %q", lines)
	}
}

func TestDNSBLDQSKey(t *testing.T) {
	srv := dnstest.Start(t, dnsblWorld)
	lists, skipped, err := Select(Selection{Replace: true, Lists: []string{"zen.spamhaus.org"}, DQSKey: "K3Y"})
	if err != nil || len(lists) != 1 || len(skipped) != 0 {
		t.Fatalf("%v %v %v", lists, skipped, err)
	}
	if got := lists[0].QueryZone(); got != "k3y.zen.dq.spamhaus.net" {
		t.Fatalf("query zone %q", got)
	}
	res := Query(context.Background(), dnsblTestClient(t, srv), lists[0], "81.0.0.2")
	if res.Status != Listed {
		t.Fatalf("%+v", res)
	}
	all := res.Query + strings.Join(res.Evidence, " ") + strings.Join(res.TXT, " ")
	if strings.Contains(all, "k3y") || !strings.Contains(res.Query, "<dqs-key>") {
		t.Errorf("the DQS key leaks into the result: %s", all)
	}
	if _, _, err := Select(Selection{DQSKey: "bad key!"}); err == nil {
		t.Error("a bad DQS key was accepted")
	}
}

func TestSelectDNSBLs(t *testing.T) {
	zones := func(ls []List) string {
		var z []string
		for _, l := range ls {
			z = append(z, l.Zone)
		}
		return strings.Join(z, " ")
	}
	def, skipped, err := Select(Selection{})
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	if !strings.Contains(zones(def), "zen.spamhaus.org") || strings.Contains(zones(def), "sorbs") || strings.Contains(zones(def), "authbl") {
		t.Errorf("defaults: %s", zones(def))
	}

	got, skipped, err := Select(Selection{Lists: []string{"-zen.spamhaus.org", "dnsbl.sorbs.net", "rbl.example.net:ipv4,ipv6", "authbl.dq.spamhaus.net"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(zones(got), "zen.spamhaus.org") || !strings.Contains(zones(got), "rbl.example.net") {
		t.Errorf("remove/add: %s", zones(got))
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0].Reason+skipped[1].Reason, "defunct") || !strings.Contains(skipped[0].Reason+skipped[1].Reason, "DQS key") {
		t.Errorf("skipped: %+v", skipped)
	}
	for _, l := range got {
		if l.Zone == "rbl.example.net" && (!l.Takes(KindIPv6) || l.Takes(KindDomain)) {
			t.Errorf("custom kinds: %v", l.Kind)
		}
	}

	all, _, err := Select(Selection{All: true})
	if err != nil || !strings.Contains(zones(all), "dnsbl.sorbs.net") {
		t.Errorf("--all-lists: %s %v", zones(all), err)
	}
	withKey, _, _ := Select(Selection{DQSKey: "abc"})
	if !strings.Contains(zones(withKey), "authbl.dq.spamhaus.net") {
		t.Errorf("a DQS key enables the DQS-only lists: %s", zones(withKey))
	}

	for _, bad := range []string{"not a zone", "com", "zen.spamhaus.org:smtp"} {
		if _, _, err := Select(Selection{Lists: []string{bad}}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	specs, err := ParseListFile(strings.NewReader("# lists\nzen.spamhaus.org\n\n-bl.spamcop.net  # not this one\nx.example:domain\n"))
	if err != nil || strings.Join(specs, " ") != "zen.spamhaus.org -bl.spamcop.net x.example:domain" {
		t.Errorf("list file: %q %v", specs, err)
	}
	if _, err := ParseListFile(strings.NewReader("a.example b.example\n")); err == nil {
		t.Error("two zones on a line accepted")
	}
}

func TestPublicResolverName(t *testing.T) {
	for _, tc := range []struct {
		in     string
		public bool
	}{
		{"8.8.8.8:53", true}, {"8.8.8.8", true}, {"[2001:4860:4860::8888]:53", true}, {"1.1.1.1:53", true},
		{"9.9.9.9:53", true}, {"208.67.222.222:53", true}, {"127.0.0.1:53", false}, {"192.168.1.1:53", false}, {"garbage", false},
	} {
		if got := PublicResolverName(tc.in) != ""; got != tc.public {
			t.Errorf("PublicResolverName(%q) public=%v, want %v", tc.in, got, tc.public)
		}
	}
}

func TestClassifyAnswerDBLIPError(t *testing.T) {
	// The DBL answers 127.0.1.255 when it is asked about an IP address.
	dbl := mustDNSBL(t, "dbl.spamhaus.org")
	r := dnscheck.NewStaticResolver("2.0.0.81.dbl.spamhaus.org. 300 IN A 127.0.1.255")
	c := classifyDNSBLAnswer(dbl, r.Lookup(context.Background(), "2.0.0.81.dbl.spamhaus.org.", dns.TypeA))
	if c.status != Unknown || !strings.Contains(c.reason, "IP address was queried against a domain list") {
		t.Errorf("%+v", c)
	}
}

// A dead list queried on purpose (--all-lists): the health check catches it
// and the finding says what the list is.
func TestDNSBLDeadListFinding(t *testing.T) {
	srv := dnstest.Start(t, dnsblWorld)
	lists, _, err := Select(Selection{Replace: true, All: true})
	if err != nil {
		t.Fatal(err)
	}
	var ahbl []List
	for _, l := range lists {
		if l.Zone == "dnsbl.ahbl.org" {
			ahbl = append(ahbl, l)
		}
	}
	if len(ahbl) != 1 {
		t.Fatalf("--all-lists must include AHBL: %v", lists)
	}
	ch := NewChecker(dnsblTestClient(t, srv), Options{})
	rep := ch.Check(context.Background(), ahbl, []string{"81.0.0.99", "spam.example"})
	fs := rep.Findings()
	if len(fs) != 2 {
		t.Fatalf("want one unhealthy finding per kind, got %+v", fs)
	}
	for _, f := range fs {
		if f.ID != "dnsbl.list-unhealthy" || f.Severity != report.Unknown || !strings.Contains(f.Cause, "defunct") || !strings.Contains(f.Cause, "lists everything") {
			t.Errorf("%+v", f)
		}
	}
}

// The test points go out in the same round as the target query, and the TXT
// of a listing in the next: a listed target costs two round trips, not four.
func TestDNSBLQueryRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	srv := dnstest.Start(t, dnsblWorld)
	const latency = 100 * time.Millisecond
	srv.SetLatency(latency)
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := Query(context.Background(), c, mustDNSBL(t, "zen.spamhaus.org"), "81.0.0.2")
	el := time.Since(start)
	if res.Status != Listed || len(res.TXT) == 0 {
		t.Fatalf("%+v", res)
	}
	if el < 2*latency || el > 2*latency+latency/2 {
		t.Errorf("took %s: want two rounds of %s (A with the test points, then TXT)", el, latency)
	}
}
