package check

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// BenchmarkRunDomains is `mxray check --domains LIST --skip smtp --selector
// s1 --selector s2 --format json` over a generated world of N mail domains
// served by dnstest with 20 ms added to every DNS answer. The list is fed
// through a pipe as the run reads it, every report is rendered as a JSON
// line, and the run shares one resolver, as the command does.
//
// N is 1,000 by default, so that `make bench` stays quick; the issue's
// figure is N = 10,000:
//
//	MXRAY_BENCH_DOMAINS=10000 go test -run '^$' -bench RunDomains -benchtime 1x ./check
//
// Reported: domains/min (target ≥ 10,000 on a 2-core machine), the peak
// resident set of the whole test process (VmHWM; it includes the in-process
// DNS server and its zone of N domains, so the runner's own share is less;
// target < 200 MB), DNS queries per domain (counted by the server) and the
// bounds used: domains at once and DNS queries in flight.
func BenchmarkRunDomains(b *testing.B) {
	const latency = 20 * time.Millisecond
	n := benchDomainCount(b)
	srv, err := dnstest.New(benchWorld(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(latency)
	srv.KeepLog(false)
	// The bounds of `mxray check --domains` by default.
	const concurrency, inFlight = DefaultConcurrency, BulkDNSInFlight
	runtime.GC()
	baseHeap := heapInUseMB()
	stopSampling, peakHeap := sampleHeap()
	var total, cpu time.Duration
	queries := 0
	for i := 0; i < b.N; i++ {
		// A fresh client per run: nothing cached from the last one.
		c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 2 * time.Second, MaxInFlight: inFlight})
		if err != nil {
			b.Fatal(err)
		}
		r := &Runner{Config: Config{Resolver: c, Skip: []string{"smtp"}, DKIM: DKIMOptions{Selectors: []string{"s1", "s2"}}},
			Concurrency: concurrency, DomainTimeout: time.Minute}
		before := srv.Queries()
		out := bufio.NewWriter(io.Discard)
		start, cpu0 := time.Now(), cpuTime()
		done := 0
		err = r.Run(context.Background(), benchList(n), func(res Result) error {
			done++
			return report.WriteJSONLine(out, res.Report)
		})
		total += time.Since(start)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if done != n {
			b.Fatalf("%d reports for %d domains", done, n)
		}
		queries += srv.Queries() - before
	}
	stopSampling()
	perRun := total / time.Duration(b.N)
	b.ReportMetric(float64(n)/perRun.Minutes(), "domains/min")
	b.ReportMetric(float64(queries)/float64(n*b.N), "queries/domain")
	// CPU time (user + system, both cores, the DNS server's share included)
	// per domain: the machine's capacity is cores / this, whatever else runs.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n*b.N), "cpu-ms/domain")
	b.ReportMetric(peakRSSMB(b), "peak-RSS-MB")
	// The Go heap in use: before the run (the DNS server's world) and at
	// its peak during the run (sampled every 50 ms).
	b.ReportMetric(baseHeap, "world-heap-MB")
	b.ReportMetric(*peakHeap, "peak-heap-MB")
	b.ReportMetric(concurrency, "domains-at-once")
	b.ReportMetric(inFlight, "dns-in-flight")
}

func benchDomainCount(b *testing.B) int {
	s := os.Getenv("MXRAY_BENCH_DOMAINS")
	if s == "" {
		return 1000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("MXRAY_BENCH_DOMAINS=%q: want a positive number", s)
	}
	return n
}

// benchList feeds "d0.test" ... through a pipe, as a list read from stdin.
func benchList(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriter(pw)
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "d%d.test\n", i)
		}
		w.Flush()
		pw.Close()
	}()
	return pr
}

// benchWorld is n mail domains as an ESP's customer list looks: six in ten
// hosted by one of three providers (shared MX hosts, addresses, SPF include
// and reverse DNS), the others on two hosts of their own (one with IPv6, a
// TLSA record on half of them). Every domain has SPF, DMARC with a report
// address, a DKIM key at selector s1 (ed25519) and half of them one at s2
// (RSA 2048); half publish TLS-RPT.
func benchWorld(b *testing.B, n int) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	rsaKey := base64.StdEncoding.EncodeToString(der)
	var w strings.Builder
	for p := 0; p < 3; p++ {
		fmt.Fprintf(&w, "$ORIGIN provider%d.test.\n@ SOA ns hostmaster 1 3600 600 86400 300\n", p)
		fmt.Fprintf(&w, "mx1 A 81.250.%d.1\nmx2 A 81.250.%d.2\nmx1 AAAA 2a00:1450:%x::1\n", p, p, p+1)
		fmt.Fprintf(&w, "_spf TXT \"v=spf1 ip4:81.250.%d.0/24 ip6:2a00:1450:%x::/48 ~all\"\n", p, p+1)
		fmt.Fprintf(&w, "$ORIGIN %d.250.81.in-addr.arpa.\n1 PTR mx1.provider%d.test.\n2 PTR mx2.provider%d.test.\n", p, p, p)
	}
	for i := 0; i < n; i++ {
		benchDomain(&w, i, rsaKey)
	}
	return w.String()
}

func benchDomain(w *strings.Builder, i int, rsaKey string) {
	d := fmt.Sprintf("d%d.test.", i)
	fmt.Fprintf(w, "$ORIGIN %s\n@ SOA ns hostmaster 1 3600 600 86400 300\n", d)
	if i%10 < 6 {
		p := i % 3
		fmt.Fprintf(w, "@ MX 10 mx1.provider%d.test.\n@ MX 20 mx2.provider%d.test.\n", p, p)
		fmt.Fprintf(w, "@ TXT \"v=spf1 include:_spf.provider%d.test -all\"\n", p)
	} else {
		a, c := (i>>8)&255, i&255
		fmt.Fprintf(w, "@ MX 10 mx1\n@ MX 20 mx2\n@ TXT \"v=spf1 mx ip4:81.%d.%d.0/28 -all\"\n", a, c)
		fmt.Fprintf(w, "mx1 A 81.%d.%d.1\nmx2 A 81.%d.%d.2\nmx1 AAAA 2a00:1451:%x:%x::1\n", a, c, a, c, a, c)
		if i%2 == 0 {
			w.WriteString("_25._tcp.mx1 TLSA 3 1 1 8755CDAA8FE24EF16CC0F2C918063185E433FAAF1415664911D9E30A924138C4\n")
		}
		fmt.Fprintf(w, "1.%d.%d.81.in-addr.arpa. PTR mx1.%s\n2.%d.%d.81.in-addr.arpa. PTR mx2.%s\n", c, a, d, c, a, d)
	}
	fmt.Fprintf(w, "_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@%s\"\n", strings.TrimSuffix(d, "."))
	w.WriteString("s1._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n")
	if i%2 == 0 {
		// An RSA key is longer than one TXT string may be (255 octets).
		fmt.Fprintf(w, "s2._domainkey TXT \"v=DKIM1; k=rsa; p=%s\" \"%s\"\n", rsaKey[:200], rsaKey[200:])
		fmt.Fprintf(w, "_smtp._tls TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@%s\"\n", strings.TrimSuffix(d, "."))
	}
}

func heapInUseMB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// sampleHeap records the largest heap in use until stop is called.
func sampleHeap() (stop func(), peak *float64) {
	peak = new(float64)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			*peak = max(*peak, heapInUseMB())
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }, peak
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is the process's peak resident set (VmHWM in /proc/self/status),
// in megabytes; 0 where /proc is not there.
func peakRSSMB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
