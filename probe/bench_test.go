package probe

import (
	"context"
	"testing"
	"time"

	"github.com/mxray/mxray/probe/smtptest"
)

// BenchmarkDryRunLatency runs a full dry run (greeting, EHLO, MAIL, three
// RCPT, QUIT) against a server that waits 20 ms before every reply, and
// reports wall time / (round trips × 20 ms). The client adds no waits of
// its own, so the ratio should stay close to 1 (target ≤ 1.2).
func BenchmarkDryRunLatency(b *testing.B) {
	const delay = 20 * time.Millisecond
	srv := smtptest.Start(b, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, ReplyDelay: delay})
	track(srv.Rec)
	cfg := testConfig()
	var rtts, n int
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
		wall := time.Since(start)
		if s.Status != StatusOK {
			b.Fatalf("status %s %s", s.Status, s.Detail)
		}
		rtts = 0
		for _, st := range s.Steps {
			if st.Reply != nil {
				rtts++
			}
		}
		total += wall
		n++
	}
	ratio := float64(total) / float64(n) / float64(time.Duration(rtts)*delay)
	b.ReportMetric(float64(rtts), "round-trips")
	b.ReportMetric(ratio, "wall/(rtt*20ms)")
	smtptest.AssertNoMessage(b, srv.Rec)
}
