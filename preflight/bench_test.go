package preflight

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
)

// benchDomains builds the recipients' world: n domains whose mail goes
// where a real list's does — 40% to Google Workspace (shared MX hosts),
// 25% to Microsoft 365 (a tenant MX host of their own), 20% to a shared
// hosting provider (50 MX hosts), 10% to an MX host of their own, 5% not
// existing — and a list of addresses over them, skewed as lists are (the
// first domains have most recipients).
func benchDomains(n, addresses int) (zone string, list []byte) {
	var z strings.Builder
	z.WriteString("$ORIGIN google.com.\naspmx.l IN A 142.250.1.26\nalt1.aspmx.l IN A 142.250.1.27\n")
	for h := 0; h < 50; h++ {
		fmt.Fprintf(&z, "$ORIGIN hosting.bench.\nmx%d IN A 81.2.70.%d\n", h, h+1)
	}
	z.WriteString("$ORIGIN bench.\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n")
	for i := 0; i < n; i++ {
		d := "d" + strconv.Itoa(i)
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5, 6, 7: // 40%
			fmt.Fprintf(&z, "%s IN MX 1 aspmx.l.google.com.\n%s IN MX 5 alt1.aspmx.l.google.com.\n", d, d)
		case 8, 9, 10, 11, 12: // 25%
			fmt.Fprintf(&z, "%s IN MX 0 %s-bench.mail.protection.outlook.com.\n", d, d)
			fmt.Fprintf(&z, "%s-bench.mail.protection.outlook.com. IN A 52.101.%d.%d\n", d, i/250%250, i%250+1)
		case 13, 14, 15, 16: // 20%
			fmt.Fprintf(&z, "%s IN MX 10 mx%d.hosting.bench.\n", d, i%50)
		case 17, 18: // 10%
			fmt.Fprintf(&z, "%s IN MX 10 mx.%s\nmx.%s IN A 81.3.%d.%d\n", d, d, d, i/250%250, i%250+1)
		} // 19: 5%, no such domain
	}
	var l strings.Builder
	for a := 0; a < addresses; a++ {
		// Domain index from a skewed distribution: half the addresses in
		// the first tenth of the domains.
		i := (a / 2) % n
		if a%2 == 0 {
			i = (a / 2) % max(1, n/10)
		}
		fmt.Fprintf(&l, "user%d@d%d.bench\n", a, i)
	}
	return z.String(), []byte(l.String())
}

// BenchmarkPreflightRecipients is a whole preflight with a recipients file
// of 100,000 addresses over 20,000 domains, 20 ms added to every DNS answer
// and the resolver's default bound of 64 queries in flight. Targets: at most
// 15 s and under 200 MB resident. It reports the wall time, the queries per
// recipient domain and the peak resident size of the process (which also
// holds the test DNS server and its 40,000 records).
//
// MXRAY_BENCH_DOMAINS and MXRAY_BENCH_ADDRESSES change the size (e.g. a
// quick 2000/10000 while iterating); the default is the full size, run once
// by `make bench` (about 15 s).
func BenchmarkPreflightRecipients(b *testing.B) {
	domains, addresses := envInt("MXRAY_BENCH_DOMAINS", 20_000), envInt("MXRAY_BENCH_ADDRESSES", 100_000)
	zone, list := benchDomains(domains, addresses)
	srv, err := dnstest.New(testworld.ReadZone(b, "../testdata/zones/preflight.zone") + "\n" + zone)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(20 * time.Millisecond)
	for i := 0; i < b.N; i++ {
		c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := Run(context.Background(), Config{Resolver: c, DNSBL: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.org"}}},
			Options{From: "news@example.com", IPs: []netip.Addr{netip.MustParseAddr("81.2.69.7")}, HELO: "out1.example.com", Volume: -1,
				Recipients: strings.NewReader(string(list)), RecipientsName: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		r := res.Recipients
		if r.Unique != addresses || len(r.List.Domains) != min(domains, addresses/2) {
			b.Fatalf("read %d addresses in %d domains", r.Unique, len(r.List.Domains))
		}
		if n := r.Statuses["unknown"] + r.Statuses["unchecked"]; n > 0 {
			b.Fatalf("%d domains unknown or unchecked: %v", n, r.Statuses)
		}
		b.ReportMetric(wall.Seconds(), "s/run")
		b.ReportMetric(float64(r.Queries)/float64(len(r.List.Domains)), "queries/domain")
		b.ReportMetric(float64(peakRSS())/(1<<20), "MB-peak-rss")
		b.Logf("%d domains: %v; %d queries for the recipients, %d in all", len(r.List.Domains), r.Statuses, r.Queries, len(c.Trace()))
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// peakRSS is the process's peak resident set (VmHWM, Linux), or the Go
// runtime's reserved memory elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.Sys)
}
