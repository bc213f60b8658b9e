package check

import (
	"context"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
)

// benchZone is a realistic mail domain whose longest chain of dependent DNS
// queries is 3 round trips: MX → A/AAAA of a host → PTR of an address (the
// forward confirmation of the PTR name is the host's own A/AAAA, already in
// the per-run cache). Every other chain is as long or shorter: the SPF tree
// is 3 deep (record → include → include, the a: mechanisms' lookups inside
// the 2nd level) and is prefetched from the start; DMARC is found in 1 query
// and its external report destination verified in a 2nd; DANE needs
// MX → TLSA; blocklists need MX → A → list query, with the RFC 5782 health
// test points queried beside the list queries (nothing is listed, so no TXT).
const benchCriticalPath = 3

const benchZone = `
$ORIGIN bench.test.
@          IN SOA ns hostmaster 1 3600 600 86400 300
@          IN MX 10 mx1
@          IN MX 20 mx2
@          IN TXT "v=spf1 ip4:81.2.69.0/28 include:_spf.bench.test include:_spf.mailer.test -all"
_spf       IN TXT "v=spf1 a:mx1.bench.test a:mx2.bench.test include:_nested.bench.test ~all"
_nested    IN TXT "v=spf1 ip6:2a00:1450:4001::/48 ~all"
_dmarc     IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@reports.mailer.test; adkim=s"
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@bench.test"
s1._domainkey IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
mx1        IN A 81.2.69.1
mx1        IN AAAA 2a00:1450:4001::1
mx2        IN A 81.2.69.2
_25._tcp.mx1 IN TLSA 3 1 1 8755CDAA8FE24EF16CC0F2C918063185E433FAAF1415664911D9E30A924138C4
_25._tcp.mx2 IN TLSA 3 1 1 8755CDAA8FE24EF16CC0F2C918063185E433FAAF1415664911D9E30A924138C4

$ORIGIN mailer.test.
@          IN SOA ns hostmaster 1 3600 600 86400 300
_spf       IN TXT "v=spf1 ip4:81.2.70.0/24 ~all"
bench.test._report._dmarc.reports IN TXT "v=DMARC1"

$ORIGIN 69.2.81.in-addr.arpa.
1          IN PTR mx1.bench.test.
2          IN PTR mx2.bench.test.
$ORIGIN 1.0.0.4.0.5.4.1.0.0.a.2.ip6.arpa.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mx1.bench.test.
`

// BenchmarkCheckDNS runs every DNS part of a domain check (SMTP skipped) with
// 20 ms added to every DNS answer, and reports the wall time as a multiple of
// the critical path (benchCriticalPath × 20 ms). Independent lookups run
// concurrently, so the ratio should stay near 1 (target ≤ 1.3).
func BenchmarkCheckDNS(b *testing.B) {
	const latency = 20 * time.Millisecond
	srv, err := dnstest.New(benchZone)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.Secure("bench.test.")
	srv.SetLatency(latency)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		// A fresh client per iteration: the per-run cache must not carry over.
		c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 2 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		rep, err := Domain(context.Background(), Config{Resolver: c, Skip: []string{"smtp", "mta-sts", "bimi"}}, "bench.test")
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if i == 0 {
			b.Logf("parts: %d sections, %d DNS queries", len(rep.Sections), len(c.Trace()))
		}
	}
	perRun := total / time.Duration(b.N)
	b.ReportMetric(float64(perRun)/float64(benchCriticalPath*latency), "x-critical-path")
	b.ReportMetric(float64(perRun.Milliseconds()), "ms/check")
}
