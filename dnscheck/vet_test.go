package dnscheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

const vetZone = `
example.com.        IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300
example.com.        IN MX 10 mx.example.com.
mx.example.com.     IN A 192.0.2.10
example.test.       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
example.test.       IN MX 10 mx.example.com.
`

func TestVetterVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		fault  func(*dnstest.Server)
		domain string
		want   Trust
		denied string
		// status of a lookup of a name that does not exist, through Vetted
		nx Status
	}{
		{"truthful", func(*dnstest.Server) {}, "example.com", Trusted, "", StatusNXDomain},
		{"nxdomain for everything", func(s *dnstest.Server) { s.SetFaultAll(dnstest.Fault{Rcode: dns.RcodeNameError}) },
			"example.com", Lying, ". NS: nxdomain", StatusUntrusted},
		{"root answered, TLD denied", func(s *dnstest.Server) {
			s.SetFault("com.", dns.TypeSOA, dnstest.Fault{Rcode: dns.RcodeNameError})
		}, "example.com", Lying, "com. SOA: nxdomain", StatusUntrusted},
		// .test is special-use (RFC 6761 §6.2): not in the root, rightly denied.
		{"special-use TLD is not vetted", func(s *dnstest.Server) {
			s.SetFault("test.", dns.TypeSOA, dnstest.Fault{Rcode: dns.RcodeNameError})
		}, "example.test", Trusted, "", StatusNXDomain},
		{"NODATA for the root's NS", func(s *dnstest.Server) {
			s.RemoveName(".")
			if err := s.AddRR(". 300 IN TXT \"no NS here\""); err != nil {
				panic(err)
			}
		}, "example.com", Lying, ". NS: nodata", StatusUntrusted},
		{"root NS unanswered", func(s *dnstest.Server) { s.SetFault(".", dns.TypeNS, dnstest.Fault{Drop: true}) },
			"example.com", Unvetted, "", StatusNXDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dnstest.Start(t, vetZone)
			tt.fault(srv)
			c := testClient(t, srv)
			v := NewVetter(c)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := Vetted(c, v, tt.domain)
			a := r.Lookup(ctx, "nope."+tt.domain, dns.TypeA)
			if a.Status != tt.nx {
				t.Errorf("lookup of a missing name: %s (%v), want %s", a.Status, a.Err, tt.nx)
			}
			verdict, ok := v.Verdict(ctx, tt.domain)
			if !ok || verdict.Trust != tt.want || verdict.Denied != tt.denied {
				t.Fatalf("verdict %+v (ok %v), want %s denying %q", verdict, ok, tt.want, tt.denied)
			}
			if tt.want == Lying {
				if verdict.Server != srv.Addr || !strings.Contains(verdict.Err().Error(), srv.Addr) {
					t.Errorf("the verdict must name the resolver %s: %+v", srv.Addr, verdict)
				}
				if !a.Failed() || a.Missing() {
					t.Error("an untrusted negative answer must count as a failed lookup, never as missing")
				}
			}
		})
	}
}

// TestVettedPositiveAnswersPass: records that came back are evidence; only
// negative answers are held and judged.
func TestVettedPositiveAnswersPass(t *testing.T) {
	srv := dnstest.Start(t, vetZone)
	srv.SetFault("com.", dns.TypeSOA, dnstest.Fault{Rcode: dns.RcodeNameError})
	c := testClient(t, srv)
	r := Vetted(c, NewVetter(c), "example.com")
	if a := r.Lookup(context.Background(), "example.com", dns.TypeMX); a.Status != StatusOK || len(a.Records) != 1 {
		t.Fatalf("positive answer changed: %s %v", a.Status, a.Records)
	}
}

// TestVetterOncePerRun: many domains (and many lookups each) share the
// vetting questions: the root once, each TLD once.
func TestVetterOncePerRun(t *testing.T) {
	srv := dnstest.Start(t, vetZone)
	c := testClient(t, srv)
	v := NewVetter(c)
	ctx := context.Background()
	for _, d := range []string{"example.com", "a.com", "b.com", "example.test", "c.org"} {
		r := Vetted(c, v, d)
		r.Lookup(ctx, d, dns.TypeMX)
		r.Lookup(ctx, "_dmarc."+d, dns.TypeTXT)
		if _, ok := v.Verdict(ctx, d); !ok {
			t.Fatal("no verdict")
		}
	}
	count := map[string]int{}
	for _, q := range srv.Log() {
		count[q]++
	}
	for q, want := range map[string]int{". NS": 1, "com. SOA": 1, "org. SOA": 1, "test. SOA": 0} {
		if count[q] != want {
			t.Errorf("%s asked %d times, want %d (log %v)", q, count[q], want, srv.Log())
		}
	}
}

// TestVettedDeadline: a negative answer waiting for a verdict that does not
// come ends with the caller's deadline, as unknown.
func TestVettedDeadline(t *testing.T) {
	srv := dnstest.Start(t, vetZone)
	srv.SetFault(".", dns.TypeNS, dnstest.Fault{Drop: true})
	c, err := NewClient([]string{srv.Addr}, Options{AttemptTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	a := Vetted(c, NewVetter(c), "example.com").Lookup(ctx, "nope.example.com", dns.TypeA)
	if a.Status != StatusTimeout {
		t.Fatalf("status %s, want timeout", a.Status)
	}
}

func TestDelegatedTLD(t *testing.T) {
	for in, want := range map[string]string{
		"example.com": "com", "EXAMPLE.ORG.": "org", "a.b.co.uk": "uk", "69.2.81.in-addr.arpa": "arpa",
		"xn--80ak6aa92e.xn--p1ai": "xn--p1ai",
		"example.test":            "", "foo.onion": "", "printer.local": "", "x.localhost": "", "a.invalid": "",
		"a.example": "", "a.alt": "", "a.notatld": "", "com": "com",
	} {
		if got := delegatedTLD(in); got != want {
			t.Errorf("delegatedTLD(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVetterAsksAgain: a failed vetting question is asked again once its
// answer expires (vetRetry), so one timeout at the start of a long run does
// not leave the resolver unvetted for the rest of it.
func TestVetterAsksAgain(t *testing.T) {
	r := NewStaticResolver()
	r.Fail(".", dns.TypeNS, StatusTimeout)
	v := NewVetter(r)
	ctx := context.Background()
	if verdict, _ := v.Verdict(ctx, "example.test"); verdict.Trust != Unvetted {
		t.Fatalf("verdict %s, want unvetted", verdict.Trust)
	}
	r.mu.Lock()
	delete(r.fail, cacheKey{".", dns.TypeNS})
	r.mu.Unlock()
	if verdict, _ := v.Verdict(ctx, "example.test"); verdict.Trust != Unvetted {
		t.Fatalf("asked again before the answer expired: %s", verdict.Trust)
	}
	v.mu.Lock()
	for _, p := range v.probes {
		p.expires = time.Now().Add(-time.Second)
	}
	v.mu.Unlock()
	if verdict, _ := v.Verdict(ctx, "example.test"); verdict.Trust != Trusted {
		t.Fatalf("after expiry: %s, want trusted", verdict.Trust)
	}
}
