package dnscheck

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

const resolverZone = `
example.com.        IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300
example.com.        IN MX 10 mx.example.com.
mx.example.com.     IN A 192.0.2.10
alias.example.com.  IN CNAME mx.example.com.
loop1.example.com.  IN CNAME loop2.example.com.
loop2.example.com.  IN CNAME loop1.example.com.
a.b.example.com.    IN A 192.0.2.11
*.wild.example.com. IN A 192.0.2.12
`

func testClient(t testing.TB, srv *dnstest.Server) *Client {
	t.Helper()
	c, err := NewClient([]string{srv.Addr}, Options{AttemptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientStatuses(t *testing.T) {
	srv := dnstest.Start(t, resolverZone)
	srv.SetFault("fail.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("refused.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeRefused})
	srv.SetFault("silent.example.com.", 0, dnstest.Fault{Drop: true})
	big := make([]string, 40)
	for i := range big {
		big[i] = fmt.Sprintf("big.example.com. IN TXT \"%s\"", strings.Repeat("x", 100))
	}
	if err := srv.AddRR(big...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		qtype  uint16
		want   Status
		nrec   int
		cnames int
		tcp    bool
	}{
		{"example.com", dns.TypeMX, StatusOK, 1, 0, false},
		{"EXAMPLE.com.", dns.TypeMX, StatusOK, 1, 0, false},
		{"example.com", dns.TypeTXT, StatusNoData, 0, 0, false},
		{"nope.example.com", dns.TypeA, StatusNXDomain, 0, 0, false},
		{"b.example.com", dns.TypeA, StatusNoData, 0, 0, false}, // empty non-terminal
		{"alias.example.com", dns.TypeA, StatusOK, 1, 1, false},
		{"alias.example.com", dns.TypeAAAA, StatusNoData, 0, 1, false},
		{"loop1.example.com", dns.TypeA, StatusServFail, 0, 0, false},
		{"x.wild.example.com", dns.TypeA, StatusOK, 1, 0, false},
		{"fail.example.com", dns.TypeA, StatusServFail, 0, 0, false},
		{"refused.example.com", dns.TypeA, StatusRefused, 0, 0, false},
		{"silent.example.com", dns.TypeA, StatusTimeout, 0, 0, false},
		{"big.example.com", dns.TypeTXT, StatusOK, 40, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			c := testClient(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			a := c.Lookup(ctx, tt.name, tt.qtype)
			if a.Status != tt.want || len(a.Records) != tt.nrec || len(a.CNAMEs) != tt.cnames || a.TCP != tt.tcp {
				t.Fatalf("got %s records=%d cnames=%v tcp=%v err=%v; want %s %d %d tcp=%v",
					a.Status, len(a.Records), a.CNAMEs, a.TCP, a.Err, tt.want, tt.nrec, tt.cnames, tt.tcp)
			}
			if a.Failed() != (tt.want >= StatusServFail) {
				t.Fatalf("Failed()=%v for %s", a.Failed(), a.Status)
			}
		})
	}
}

func TestClientCacheAndDedup(t *testing.T) {
	srv := dnstest.Start(t, resolverZone)
	srv.SetLatency(30 * time.Millisecond)
	c := testClient(t, srv)
	ctx := context.Background()
	done := make(chan Answer, 10)
	for i := 0; i < 10; i++ {
		go func() { done <- c.Lookup(ctx, "mx.example.com", dns.TypeA) }()
	}
	for i := 0; i < 10; i++ {
		if a := <-done; a.Status != StatusOK {
			t.Fatalf("status %s", a.Status)
		}
	}
	c.Lookup(ctx, "mx.example.com.", dns.TypeA)
	if n := srv.Queries(); n != 1 {
		t.Fatalf("server saw %d queries, want 1 (cache + in-flight dedup)", n)
	}
	if tr := c.Trace(); len(tr) != 1 || tr[0].Name != "mx.example.com." || tr[0].Rcode != "NOERROR" || tr[0].Answers != 1 {
		t.Fatalf("trace = %+v", tr)
	}
}

func TestClientFailover(t *testing.T) {
	bad := dnstest.Start(t, resolverZone)
	bad.SetFault("mx.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	good := dnstest.Start(t, resolverZone)
	c, err := NewClient([]string{bad.Addr, good.Addr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Lookup(context.Background(), "mx.example.com", dns.TypeA)
	if a.Status != StatusOK || a.Server != good.Addr {
		t.Fatalf("got %s from %s", a.Status, a.Server)
	}
	// NXDOMAIN is an answer: no failover, no retry.
	before := good.Queries() + bad.Queries()
	c.Lookup(context.Background(), "nope.example.com", dns.TypeA)
	if n := good.Queries() + bad.Queries() - before; n != 1 {
		t.Fatalf("NXDOMAIN took %d queries, want 1", n)
	}
}

func TestClientContextDeadline(t *testing.T) {
	srv := dnstest.Start(t, resolverZone)
	srv.SetFault("silent.example.com.", 0, dnstest.Fault{Drop: true})
	c, _ := NewClient([]string{srv.Addr}, Options{AttemptTimeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	a := c.Lookup(ctx, "silent.example.com", dns.TypeA)
	if a.Status != StatusTimeout {
		t.Fatalf("status %s", a.Status)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("lookup ignored the context deadline: %s", el)
	}
}

func TestNormalizeServer(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1": "127.0.0.1:53", "127.0.0.1:5353": "127.0.0.1:5353", "::1": "[::1]:53", "[::1]:54": "[::1]:54"} {
		if got, err := NormalizeServer(in); err != nil || got != want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dns.google", "1.2.3.4:0", "1.2.3.4:x", "[::1]"} {
		if _, err := NormalizeServer(in); err == nil {
			t.Errorf("NormalizeServer(%q) accepted", in)
		}
	}
}

func TestStaticResolver(t *testing.T) {
	r := NewStaticResolver("example.com. MX 10 mx.example.com.", "www.example.com. CNAME example.com.", "a.b.example.com. A 192.0.2.1")
	r.Fail("broken.example.com.", 0, StatusServFail)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		qtype uint16
		want  Status
	}{
		{"example.com", dns.TypeMX, StatusOK},
		{"www.example.com", dns.TypeMX, StatusOK},
		{"example.com", dns.TypeA, StatusNoData},
		{"b.example.com", dns.TypeA, StatusNoData},
		{"c.example.com", dns.TypeA, StatusNXDomain},
		{"broken.example.com", dns.TypeTXT, StatusServFail},
	} {
		if a := r.Lookup(ctx, tt.name, tt.qtype); a.Status != tt.want {
			t.Errorf("%s %s: %s, want %s", tt.name, dns.TypeToString[tt.qtype], a.Status, tt.want)
		}
	}
}
