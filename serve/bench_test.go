package serve_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/serve"
)

// benchDomains is the number of domains of the benchmark's world, and of
// concurrent probes.
const benchDomains = 100

// benchWorld is 100 mail domains, each with its own MX address (routed to
// one go-smtp fake), SPF, DMARC and a DKIM key, plus a blocklist; every
// DNS answer takes 20 ms.
func benchWorld(b *testing.B) *serve.World {
	var z strings.Builder
	z.WriteString("bench. IN SOA ns hostmaster 1 3600 600 86400 300\n")
	z.WriteString("$ORIGIN bl.bench.\n2.0.0.127 IN A 127.0.0.2\n2.0.0.127 IN TXT \"test point\"\n")
	routes := map[string]string{}
	fake, err := smtptest.New(smtptest.Options{Domain: "mx.bench", LocalDomains: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fake.Close)
	for i := 0; i < benchDomains; i++ {
		fmt.Fprintf(&z, `$ORIGIN d%d.bench.
@             IN MX 10 mx
@             IN TXT "v=spf1 mx include:_spf.bench -all"
_dmarc        IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@d%d.bench"
s1._domainkey IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
mx            IN A 81.2.71.%d
$ORIGIN 71.2.81.in-addr.arpa.
%d            IN PTR mx.d%d.bench.
`, i, i, i, i, i)
		routes[fmt.Sprintf("81.2.71.%d:25", i)] = fake.Addr
	}
	z.WriteString("$ORIGIN bench.\n_spf IN TXT \"v=spf1 ip4:81.2.71.0/24 -all\"\n")
	dns, err := dnstest.New(z.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(dns.Close)
	dns.SetLatency(20 * time.Millisecond)
	return &serve.World{Resolvers: []string{dns.Addr}, Dial: smtptest.Router(routes),
		Check: check.Config{
			SMTP:  check.SMTPOptions{HELO: "probe.mxray.bench"},
			DNSBL: check.DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.bench:ipv4"}}},
			DKIM:  check.DKIMOptions{Selectors: []string{"s1"}},
		}}
}

func probeOnce(b *testing.B, base string, i int) time.Duration {
	start := time.Now()
	resp, err := http.Get(fmt.Sprintf("%s/probe?module=check&target=d%d.bench", base, i))
	if err != nil {
		b.Error(err)
		return 0
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "probe_duration_seconds") {
		b.Errorf("probe d%d: %d %s", i, resp.StatusCode, body)
	}
	return time.Since(start)
}

// BenchmarkProbeConcurrent: 100 (and, for the scaling, 10) concurrent
// /probe?module=check requests, each a whole domain check of its own
// domain (DNS, SMTP dry run, blocklist) at 20 ms per DNS answer, against
// the latency of one probe alone. Reported: p99/single (target ≤ 1.5),
// both latencies, the peak heap during the burst, the bytes allocated and
// the CPU time (of the whole process: the server, and the test world's
// DNS and SMTP servers, which share the machine) per probe.
func BenchmarkProbeConcurrent(b *testing.B) {
	for _, n := range []int{10, benchDomains} {
		b.Run(fmt.Sprintf("concurrent=%d", n), func(b *testing.B) { benchProbes(b, n) })
	}
}

func benchProbes(b *testing.B, concurrent int) {
	w := benchWorld(b)
	hs := start(b, serve.Options{World: w, RatePerMinute: -1, MaxInFlight: 2 * benchDomains})
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = benchDomains
	var single, p99 time.Duration
	var peak uint64
	var allocPerProbe, cpuPerProbe float64
	for n := 0; n < b.N; n++ {
		// One probe alone: the median of five.
		var alone []time.Duration
		for i := 0; i < 5; i++ {
			alone = append(alone, probeOnce(b, hs.URL, i))
		}
		sort.Slice(alone, func(i, j int) bool { return alone[i] < alone[j] })
		single = alone[2]

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		cpuBefore := cpuTime()
		var peakHeap atomic.Uint64
		stop := make(chan struct{})
		go func() { // sample the heap while the burst runs
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peakHeap.Load() {
					peakHeap.Store(m.HeapInuse)
				}
			}
		}()
		lat := make([]time.Duration, concurrent)
		var wg sync.WaitGroup
		startLine := make(chan struct{})
		for i := 0; i < concurrent; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startLine
				lat[i] = probeOnce(b, hs.URL, i)
			}()
		}
		close(startLine)
		wg.Wait()
		close(stop)
		cpuPerProbe = float64(cpuTime()-cpuBefore) / float64(time.Millisecond) / float64(concurrent)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p99 = lat[(len(lat)*99+99)/100-1]
		b.Logf("latencies of %d concurrent probes: min %v p50 %v p99 %v; one alone %v", concurrent, lat[0], lat[len(lat)/2], p99, single)
		peak = peakHeap.Load()
		allocPerProbe = float64(after.TotalAlloc-before.TotalAlloc) / float64(concurrent)
	}
	b.ReportMetric(float64(p99)/float64(single), "p99/single")
	b.ReportMetric(float64(single.Milliseconds()), "single-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(allocPerProbe/(1<<20), "alloc-MB/probe")
	b.ReportMetric(cpuPerProbe, "cpu-ms/probe")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
