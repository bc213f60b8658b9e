package dnsbl

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

// BenchmarkDNSBL50Lists checks one IP against 50 lists on a server that
// takes 20 ms per answer, and reports wall time / latency ("rounds"). Every
// list is health-checked (two test points) in the same round as the target
// query, and the 10 lists that list the IP get a TXT query: the target is 2
// rounds of queries. A sequential checker needs a round per query.
//
//	go test -run '^$' -bench DNSBL50Lists -benchtime 3x ./dnscheck/
func BenchmarkDNSBL50Lists(b *testing.B) {
	const latency = 20 * time.Millisecond
	var zone strings.Builder
	var lists []List
	for i := 0; i < 50; i++ {
		z := fmt.Sprintf("bl%02d.bench.example", i)
		fmt.Fprintf(&zone, "2.0.0.127.%s. A 127.0.0.2\n", z)
		if i%5 == 0 { // 10 of the 50 lists list the address
			fmt.Fprintf(&zone, "7.113.0.81.%s. A 127.0.0.2\n7.113.0.81.%s. TXT \"listed: see https://%s/\"\n", z, z, z)
		}
		l, err := parseDNSBLSpec(z)
		if err != nil {
			b.Fatal(err)
		}
		lists = append(lists, l)
	}
	srv, err := dnstest.New(zone.String())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(latency)

	for _, bc := range []struct {
		name        string
		concurrency int // Options.Concurrency (0: the default)
		inFlight    int // the resolver's Options.MaxInFlight
	}{
		// 166 queries in flight cover one round: 50 A + 100 test points (+ 10 TXT after);
		// it is what 'mxray blocklist' sets for 50 lists (3×lists+16).
		{"concurrent/inflight=166", 0, 166},
		{"concurrent/inflight=64", 0, 64}, // the resolver's default (mxray check)
		{"sequential", 1, 166},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rounds float64
			for i := 0; i < b.N; i++ {
				// A fresh client per run: no cache carried over.
				c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 2 * time.Second, MaxInFlight: bc.inFlight})
				if err != nil {
					b.Fatal(err)
				}
				ch := NewChecker(c, Options{Concurrency: bc.concurrency})
				start := time.Now()
				rep := ch.Check(context.Background(), lists, []string{"81.0.113.7"})
				el := time.Since(start)
				listed := 0
				for _, r := range rep.Results {
					if r.Status == Listed {
						listed++
					} else if r.Status != NotListed {
						b.Fatalf("%s: %s (%s)", r.Zone, r.Status, r.Reason)
					}
				}
				if listed != 10 {
					b.Fatalf("%d listed, want 10", listed)
				}
				rounds += float64(el) / float64(latency)
			}
			b.ReportMetric(rounds/float64(b.N), "wall/latency")
		})
	}
}
