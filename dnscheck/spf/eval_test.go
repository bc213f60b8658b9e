package spf

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestCheckHost(t *testing.T) {
	zone := []string{
		`ex.test. IN TXT "v=spf1 ip4:192.0.2.0/28 a:mail.ex.test/30 mx//64 include:esp.test exists:%{l}.ok.ex.test ?ip4:198.51.100.1 -all exp=why.ex.test"`,
		`mail.ex.test. IN A 203.0.113.8`,
		`ex.test. IN MX 10 mx.ex.test.`, `mx.ex.test. IN AAAA 2001:db8:5::1`,
		`esp.test. IN TXT "v=spf1 ip6:2001:db8:e5::/48 -all"`,
		`alice.ok.ex.test. IN A 127.0.0.2`,
		`why.ex.test. IN TXT "%{i} is not allowed to send as %{s} (checked %{d}, helo %{h})"`,
		`soft.test. IN TXT "v=spf1 redirect=ex.test"`,
		`broken.test. IN TXT "v=spf1 include:servfail.test -all"`,
		`none.test. IN TXT "v=spf1 include:nothing.test -all"`,
		`limit.test. IN TXT "v=spf1 a:a1.limit.test a:a2.limit.test a:a3.limit.test a:a4.limit.test a:a5.limit.test a:a6.limit.test a:a7.limit.test a:a8.limit.test a:a9.limit.test a:a10.limit.test a:a11.limit.test ip4:192.0.2.1 -all"`,
	}
	for i := 1; i <= 11; i++ {
		zone = append(zone, "a"+strconv.Itoa(i)+".limit.test. IN A 203.0.113.200")
	}
	zone = append(zone, "fail servfail.test. TXT servfail")
	for _, tc := range []struct {
		ip, domain, sender, helo string
		want                     Result
		term, reasonPart, expl   string
		lookups, void            int
	}{
		{ip: "192.0.2.5", sender: "bob@ex.test", want: Pass, term: "ex.test: ip4:192.0.2.0/28"},
		{ip: "203.0.113.10", sender: "bob@ex.test", want: Pass, term: "ex.test: a:mail.ex.test/30", lookups: 1},
		{ip: "2001:db8:5::77", sender: "bob@ex.test", want: Pass, term: "ex.test: mx//64", lookups: 2, void: 1},
		{ip: "2001:db8:e5::9", sender: "bob@ex.test", want: Pass, term: "ex.test: include:esp.test", lookups: 3, void: 1},
		{ip: "203.0.113.99", sender: "alice@ex.test", want: Pass, term: "ex.test: exists:%{l}.ok.ex.test", lookups: 4, void: 0},
		{ip: "198.51.100.1", sender: "bob@ex.test", want: Neutral, term: "ex.test: ?ip4:198.51.100.1", lookups: 4, void: 1},
		{ip: "198.51.100.2", sender: "bob@ex.test", helo: "h.example", want: Fail, term: "ex.test: -all", lookups: 4, void: 1,
			expl: "198.51.100.2 is not allowed to send as bob@ex.test (checked ex.test, helo h.example)"},
		// §2.4: the null sender is postmaster@HELO and the HELO domain is checked.
		{ip: "198.51.100.2", sender: "", helo: "ex.test", want: Fail, lookups: 4, void: 1,
			expl: "198.51.100.2 is not allowed to send as postmaster@ex.test (checked ex.test, helo ex.test)"},
		// redirect: the target's result and exp (§6.1, §6.2).
		{ip: "198.51.100.2", sender: "x@soft.test", want: Fail, term: "ex.test: -all", lookups: 5, void: 1,
			expl: "198.51.100.2 is not allowed to send as x@soft.test (checked ex.test, helo )"},
		// A DNS failure is temperror, never none (§4.4, §5.2).
		{ip: "192.0.2.1", sender: "x@broken.test", want: TempError, term: "broken.test: include:servfail.test", reasonPart: "servfail"},
		{ip: "192.0.2.1", sender: "x@servfail.test", want: TempError},
		{ip: "192.0.2.1", sender: "x@none.test", want: PermError, reasonPart: "no SPF record"},
		{ip: "192.0.2.1", sender: "x@nothing.test", want: None},
		{ip: "192.0.2.1", sender: "x@[192.0.2.1]", want: None},
		// The 11th DNS-querying term is a permerror, where it is reached.
		{ip: "192.0.2.1", sender: "x@limit.test", want: PermError, term: "limit.test: a:a11.limit.test", lookups: 11, reasonPart: "more than 10"},
		{ip: "::ffff:192.0.2.5", sender: "bob@ex.test", want: Pass, term: "ex.test: ip4:192.0.2.0/28"},
	} {
		t.Run(tc.sender+" "+tc.ip, func(t *testing.T) {
			r := spfZone(zone...)
			ev := CheckHost(context.Background(), r, mustAddr(tc.ip), tc.domain, tc.sender, tc.helo)
			if ev.Result != tc.want || tc.term != "" && ev.Term != tc.term || !strings.Contains(ev.Reason, tc.reasonPart) || ev.Explanation != tc.expl {
				t.Errorf("got %s by %q (%s), expl %q; want %s by %q, expl %q", ev.Result, ev.Term, ev.Reason, ev.Explanation, tc.want, tc.term, tc.expl)
			}
			if tc.lookups != 0 && (ev.Lookups != tc.lookups || ev.VoidLookups != tc.void) {
				t.Errorf("counted %d lookups, %d void; want %d, %d", ev.Lookups, ev.VoidLookups, tc.lookups, tc.void)
			}
		})
	}
}

// TestCheckHostConcurrent: with 50 ms per answer, a tree of 9 includes 3
// levels deep resolves in about 3 round trips; sequential evaluation
// without prefetching needs 10 (the record and the 9 includes).
func TestCheckHostConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const latency = 50 * time.Millisecond
	srv := dnstest.Start(t, spfTreeZone)
	srv.SetLatency(latency)
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ev := CheckHost(context.Background(), c, mustAddr("203.0.113.99"), "", "x@tree.test", "tree.test")
	wall := time.Since(start)
	if ev.Result != Fail || ev.Lookups != 9 {
		t.Fatalf("result %s after %d lookups (%s), want fail after 9", ev.Result, ev.Lookups, ev.Reason)
	}
	// 3 levels of TXT: about 150 ms; sequential: 500 ms. Allow for a loaded machine.
	if wall > 8*latency {
		t.Errorf("evaluation took %s, more than 8 round trips of %s", wall, latency)
	}
	t.Logf("9 includes at depth 3, %s per answer: %s (%.2f × depth × latency)", latency, wall, float64(wall)/float64(3*latency))
}

// spfTreeZone is a record with 9 includes at depth 3: tree.test includes
// i1..i3, each of which includes two more.
const spfTreeZone = `
tree.test.  IN TXT "v=spf1 include:i1.tree.test include:i2.tree.test include:i3.tree.test -all"
i1.tree.test. IN TXT "v=spf1 include:i11.tree.test include:i12.tree.test ~all"
i2.tree.test. IN TXT "v=spf1 include:i21.tree.test include:i22.tree.test ~all"
i3.tree.test. IN TXT "v=spf1 include:i31.tree.test include:i32.tree.test ~all"
i11.tree.test. IN TXT "v=spf1 ip4:198.51.100.11 ~all"
i12.tree.test. IN TXT "v=spf1 ip4:198.51.100.12 ~all"
i21.tree.test. IN TXT "v=spf1 ip4:198.51.100.21 ~all"
i22.tree.test. IN TXT "v=spf1 ip4:198.51.100.22 ~all"
i31.tree.test. IN TXT "v=spf1 ip4:198.51.100.31 ~all"
i32.tree.test. IN TXT "v=spf1 ip4:198.51.100.32 ~all"
`

// BenchmarkSPFTree measures check_host() and the full analysis of a record
// with 9 includes at depth 3, 20 ms per DNS answer, and reports wall time
// as a multiple of depth × latency (1.0 = one round trip per level).
func BenchmarkSPFTree(b *testing.B) {
	const latency = 20 * time.Millisecond
	const depth = 3
	srv, err := dnstest.New(spfTreeZone)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(latency)
	for _, mode := range []string{"CheckHost", "AnalyzeSPF"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if mode == "CheckHost" {
					if ev := CheckHost(context.Background(), c, mustAddr("203.0.113.99"), "", "x@tree.test", "tree.test"); ev.Result != Fail {
						b.Fatalf("result %s: %s", ev.Result, ev.Reason)
					}
				} else if a := Analyze(context.Background(), c, "tree.test"); a.Lookups != 9 {
					b.Fatalf("%d lookups", a.Lookups)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(depth*latency), "x-depth-rtt")
		})
	}
}
