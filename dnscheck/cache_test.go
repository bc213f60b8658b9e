package dnscheck

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

const cacheZone = `
example.com.    IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 120
a.example.com.  600 IN A 192.0.2.1
b.example.com.  7200 IN A 192.0.2.2
c.example.com.  0 IN A 192.0.2.3
`

// TestCacheBoundAndLRU: a Client shared by a long run keeps at most
// CacheEntries answers, dropping the least recently used.
func TestCacheBoundAndLRU(t *testing.T) {
	srv := dnstest.Start(t, cacheZone)
	c, err := NewClient([]string{srv.Addr}, Options{AttemptTimeout: time.Second, CacheEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Lookup(ctx, "a.example.com", dns.TypeA)
	c.Lookup(ctx, "b.example.com", dns.TypeA)
	c.Lookup(ctx, "a.example.com", dns.TypeA) // a is now the most recently used
	c.Lookup(ctx, "c.example.com", dns.TypeA) // evicts b
	if n := c.cache.Len(); n != 2 {
		t.Fatalf("%d entries cached, bound 2", n)
	}
	before := srv.Queries()
	c.Lookup(ctx, "a.example.com", dns.TypeA)
	if srv.Queries() != before {
		t.Error("a (recently used) was evicted")
	}
	c.Lookup(ctx, "b.example.com", dns.TypeA)
	if srv.Queries() != before+1 {
		t.Error("b (least recently used) was not evicted")
	}
}

// TestCacheTTL: an answer is kept for its TTL (at least cacheMinTTL, at most
// cacheMaxTTL), a negative answer for the SOA's negative TTL (RFC 2308 §5),
// a failure for failureTTL.
func TestCacheTTL(t *testing.T) {
	srv := dnstest.Start(t, cacheZone)
	srv.SetFault("fail.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	c := testClient(t, srv)
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		keep   time.Duration
		reason string
	}{
		{"a.example.com", 600 * time.Second, "record TTL"},
		{"b.example.com", cacheMaxTTL, "TTL above the cap"},
		{"c.example.com", cacheMinTTL, "TTL 0 raised to the floor"},
		{"nope.example.com", 2 * time.Minute, "SOA minimum 120 s"},
		{"fail.example.com", failureTTL, "server failure"},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			now = time.Now()
			c.Lookup(ctx, tt.name, dns.TypeA)
			n := srv.Queries()
			now = now.Add(tt.keep - time.Second)
			c.Lookup(ctx, tt.name, dns.TypeA)
			if srv.Queries() != n {
				t.Errorf("asked again before %s", tt.keep)
			}
			now = now.Add(2 * time.Second)
			c.Lookup(ctx, tt.name, dns.TypeA)
			if srv.Queries() == n {
				t.Errorf("still cached after %s", tt.keep)
			}
		})
	}
}

// TestTraceLogs: checks sharing a Client each see their own queries, and a
// question another check asked appears as cached; the Client's own trace
// stays empty, so a long run does not grow it.
func TestTraceLogs(t *testing.T) {
	srv := dnstest.Start(t, cacheZone)
	c := testClient(t, srv)
	ctx1, log1 := WithTraceLog(context.Background())
	ctx2, log2 := WithTraceLog(context.Background())
	c.Lookup(ctx1, "a.example.com", dns.TypeA)
	c.Lookup(ctx1, "a.example.com", dns.TypeA) // its own cached answer: not traced twice
	c.Lookup(ctx2, "a.example.com", dns.TypeA)
	c.Lookup(ctx2, "nope.example.com", dns.TypeA)
	q1, q2 := log1.Queries(), log2.Queries()
	if len(q1) != 1 || q1[0].Cached || q1[0].Name != "a.example.com." {
		t.Errorf("log 1: %+v", q1)
	}
	if len(q2) != 2 || !q2[0].Cached || q2[0].Rcode != "NOERROR" || q2[0].Answers != 1 || q2[1].Cached || q2[1].Rcode != "NXDOMAIN" {
		t.Errorf("log 2: %+v", q2)
	}
	if tr := c.Trace(); len(tr) != 0 {
		t.Errorf("client trace grew: %+v", tr)
	}
}
