package dnstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const zone = `
example.test.       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
example.test.       IN MX 10 mx.example.test.
mx.example.test.    IN A 192.0.2.1
www.example.test.   IN CNAME mx.example.test.
*.wild.example.test. IN TXT "wild"
`

func ask(t *testing.T, s *Server, net string, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	c := &dns.Client{Net: net, Timeout: time.Second}
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return r
}

func TestAnswers(t *testing.T) {
	s := Start(t, zone)
	if r := ask(t, s, "udp", "mx.example.test.", dns.TypeA, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("A: %v", r)
	}
	// NXDOMAIN and NODATA carry the zone's SOA in the authority section.
	r := ask(t, s, "udp", "nope.example.test.", dns.TypeA, false)
	if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Name != "example.test." {
		t.Fatalf("NXDOMAIN: %v", r)
	}
	r = ask(t, s, "tcp", "mx.example.test.", dns.TypeAAAA, false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Fatalf("NODATA over TCP: %v", r)
	}
	r = ask(t, s, "udp", "www.example.test.", dns.TypeA, false)
	if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("CNAME chain: %v", r)
	}
	r = ask(t, s, "udp", "a.b.wild.example.test.", dns.TypeTXT, false)
	if len(r.Answer) != 1 || r.Answer[0].Header().Name != "a.b.wild.example.test." {
		t.Fatalf("wildcard: %v", r)
	}
}

func TestTruncationAndFaults(t *testing.T) {
	s := Start(t, zone)
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf("big.example.test. IN TXT \"%s\"", strings.Repeat("y", 60)))
	}
	if err := s.AddRR(lines...); err != nil {
		t.Fatal(err)
	}
	if r := ask(t, s, "udp", "big.example.test.", dns.TypeTXT, false); !r.Truncated || len(r.Answer) != 0 {
		t.Fatalf("512-octet UDP answer not truncated: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	if r := ask(t, s, "udp", "big.example.test.", dns.TypeTXT, true); !r.Truncated {
		t.Fatal("answer over the EDNS buffer not truncated")
	}
	if r := ask(t, s, "tcp", "big.example.test.", dns.TypeTXT, false); r.Truncated || len(r.Answer) != 30 {
		t.Fatalf("TCP answer: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	s.SetFault("mx.example.test.", dns.TypeA, Fault{Rcode: dns.RcodeRefused})
	if r := ask(t, s, "udp", "mx.example.test.", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
		t.Fatalf("fault: %v", r)
	}
	if r := ask(t, s, "udp", "mx.example.test.", dns.TypeMX, false); r.Rcode != dns.RcodeSuccess {
		t.Fatal("a fault for A leaked to MX")
	}
	s.Secure("example.test.")
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeMX)
	m.AuthenticatedData = true
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, s.Addr)
	if err != nil || !r.AuthenticatedData {
		t.Fatalf("secure zone: AD=%v err=%v", r != nil && r.AuthenticatedData, err)
	}
	if n := s.Queries(); n != 6 {
		t.Fatalf("query count %d", n)
	}
}
