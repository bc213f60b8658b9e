package check

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxray/mxray/dnscheck/dnsbl"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// The dnsbl part checks the MX addresses, the domain, the MX host names and
// the sending IP; it skips special-use addresses.
func TestDNSBLPart(t *testing.T) {
	srv := dnstest.Start(t, `
example.com.          MX   10 mx.example.com.
example.com.          MX   20 mx2.example.com.
mx.example.com.       A    81.0.0.2
mx.example.com.       AAAA 2a01:4f8:1:2::25
mx2.example.com.      A    10.0.0.5
2.0.0.127.zen.spamhaus.org.  A 127.0.0.2
2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org. A 127.0.0.2
2.0.0.81.zen.spamhaus.org.   A 127.0.0.2
4.0.0.81.zen.spamhaus.org.   A 127.0.0.4
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.f.4.0.1.0.a.2.zen.spamhaus.org. A 127.0.0.3
dbltest.com.dbl.spamhaus.org.     A 127.0.1.2
mx2.example.com.dbl.spamhaus.org. A 127.0.1.2
`)
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Only: []string{"dnsbl"}, SendingIP: netip.MustParseAddr("81.0.0.4"),
		DNSBL: DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"zen.spamhaus.org", "dbl.spamhaus.org", "dnsbl.sorbs.net"}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := Domain(ctx, cfg, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, f := range rep.Find("dnsbl.listed") {
		listed[f.Subject] = true
	}
	for _, want := range []string{"81.0.0.2", "2a01:4f8:1:2::25", "81.0.0.4", "mx2.example.com"} {
		if !listed[want] {
			t.Errorf("%s not reported listed; listed: %v", want, listed)
		}
	}
	if len(listed) != 4 {
		t.Errorf("listed: %v", listed)
	}
	if f := rep.Find("dnsbl.special-address"); len(f) != 1 || f[0].Subject != "10.0.0.5" {
		t.Errorf("special-use address: %+v", f)
	}
	if f := rep.Find("dnsbl.skipped"); len(f) != 1 || !strings.Contains(f[0].Summary, "defunct") {
		t.Errorf("SORBS must be named as defunct and not queried: %+v", f)
	}
	var clean []string
	for _, f := range rep.Find("dnsbl.not-listed") {
		clean = append(clean, f.Subject)
	}
	if strings.Join(clean, " ") != "example.com mx.example.com" {
		t.Errorf("not listed: %v", clean)
	}
	for _, f := range rep.Findings() {
		if f.Severity == report.Unknown {
			t.Errorf("unexpected unknown: %+v", f)
		}
	}
	for _, q := range srv.Log() {
		if strings.Contains(q, "5.0.0.10.") {
			t.Errorf("a private address was queried: %s", q)
		}
	}
}

func TestDNSBLPartWithoutMX(t *testing.T) {
	srv := dnstest.Start(t, `
dbltest.com.dbl.spamhaus.org.     A 127.0.1.2
spam.example.dbl.spamhaus.org.    A 127.0.1.2
`)
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Only: []string{"dnsbl"}, Skip: []string{"mx"},
		DNSBL: DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"dbl.spamhaus.org"}}}}
	rep, err := Domain(context.Background(), cfg, "spam.example")
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Find("dnsbl.listed"); len(f) != 1 || f[0].Subject != "spam.example" {
		t.Errorf("the domain is checked without MX: %+v", rep.Findings())
	}
	if f := rep.Find("dnsbl.no-mx"); len(f) != 1 || f[0].Severity != report.Info {
		t.Errorf("no-mx note: %+v", f)
	}
}

// TestDNSBLPartMXLookupFailed: when the MX lookup fails, the mail hosts
// were not checked, and the section says so as unknown (it is not a clean
// result with nothing listed).
func TestDNSBLPartMXLookupFailed(t *testing.T) {
	srv := dnstest.Start(t, "example.test. IN SOA ns h 1 3600 600 86400 300\n")
	srv.SetFault("example.test.", dns.TypeMX, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Only: []string{"mx", "dnsbl"},
		DNSBL: DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.net:ipv4"}}}}
	rep, err := Domain(context.Background(), cfg, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Find("dnsbl.mx-unknown"); len(f) != 1 || f[0].Severity != report.Unknown {
		t.Errorf("dnsbl.mx-unknown: %+v\nall: %+v", f, rep.Findings())
	}
}
