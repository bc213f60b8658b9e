package dnscheck

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

// mxZone describes one mail world per domain; each test case checks one
// domain and expects a set of finding ids with their severities.
const mxZone = `
$ORIGIN test.
@               IN SOA ns hostmaster 1 3600 600 86400 300

; good: two hosts, forward-confirmed rDNS, IPv6 on one
good            IN MX 10 mx1.good
good            IN MX 20 mx2.good
mx1.good        IN A 81.2.69.10
mx1.good        IN AAAA 2a00:1450:4001::10
mx2.good        IN A 81.2.69.11

; implicit MX: no MX, the domain has an address
implicit        IN A 81.2.69.20
; nothing at all, but the name exists (a TXT only)
nomail          IN TXT "hello"
; null MX alone, and null MX mixed with a real MX
null            IN MX 0 .
nullpref        IN MX 10 .
mixed           IN MX 0 .
mixed           IN MX 10 mx1.good
; MX target is an alias
cname           IN MX 10 alias.cname
alias.cname     IN CNAME mx1.good
; IP literal target, target that does not exist, target with no address
literal         IN MX 10 81.2.69.30.
dangling        IN MX 10 gone.dangling
noaddr          IN MX 10 host.noaddr
host.noaddr     IN TXT "no address here"
; private and partly private targets
private         IN MX 10 mx.private
mx.private      IN A 10.1.2.3
halfprivate     IN MX 10 mx.halfprivate
mx.halfprivate  IN A 192.168.1.1
mx.halfprivate  IN A 81.2.69.40
; duplicate host
dup             IN MX 10 mx1.good
dup             IN MX 20 MX1.GOOD
; rDNS problems
nordns          IN MX 10 mx.nordns
mx.nordns       IN A 81.2.69.50
badfcrdns       IN MX 10 mx.badfcrdns
mx.badfcrdns    IN A 81.2.69.51
generic         IN MX 10 mx.generic
mx.generic      IN A 81.2.69.52
invalidptr      IN MX 10 mx.invalidptr
mx.invalidptr   IN A 81.2.69.53
multiptr        IN MX 10 mx.multiptr
mx.multiptr     IN A 81.2.69.54
; failures
servfail        IN MX 10 mx1.good
failhost        IN MX 10 mx.failhost
mx.failhost     IN A 81.2.69.55
failptr         IN MX 10 mx.failptr
mx.failptr      IN A 81.2.69.56

$ORIGIN 69.2.81.in-addr.arpa.
10  IN PTR mx1.good.test.
11  IN PTR mx2.good.test.
20  IN PTR implicit.test.
40  IN PTR mx.halfprivate.test.
51  IN PTR somewhere-else.test.
52  IN PTR 52-69-2-81.dyn.isp.test.
53  IN PTR mail_server.invalidptr.test.
54  IN PTR mx.multiptr.test.
54  IN PTR other.multiptr.test.
$ORIGIN 1.0.0.4.0.5.4.1.0.0.a.2.ip6.arpa.
0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mx1.good.test.
$ORIGIN test.
somewhere-else  IN A 81.2.69.99
52-69-2-81.dyn.isp IN A 81.2.69.52
mx.multiptr     IN TXT "x"
other.multiptr  IN A 81.2.69.54
`

func mxWorld(t *testing.T) (*dnstest.Server, *Client) {
	t.Helper()
	srv := dnstest.Start(t, mxZone)
	srv.SetFault("servfail.test.", dns.TypeMX, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("mx.failhost.test.", dns.TypeA, dnstest.Fault{Drop: true})
	srv.SetFault("mx.failhost.test.", dns.TypeAAAA, dnstest.Fault{Drop: true})
	srv.SetFault("56.69.2.81.in-addr.arpa.", dns.TypePTR, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	c, err := NewClient([]string{srv.Addr}, Options{AttemptTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestMXFindings(t *testing.T) {
	_, c := mxWorld(t)
	tests := []struct {
		domain string
		want   map[string]report.Severity // must be present with this severity
		absent []string                   // must not be present
	}{
		{"good.test", map[string]report.Severity{"mx.present": report.OK, "mx.target-ok": report.OK, "mx.ipv6": report.OK, "ptr.ok": report.OK}, []string{"ptr.missing", "mx.target-cname"}},
		{"implicit.test", map[string]report.Severity{"mx.implicit": report.Info, "mx.no-ipv6": report.Info}, []string{"mx.present"}},
		{"nomail.test", map[string]report.Severity{"mx.none": report.Failure}, nil},
		{"absent.test", map[string]report.Severity{"mx.domain-nxdomain": report.Failure}, nil},
		{"null.test", map[string]report.Severity{"mx.null-mx": report.Info}, []string{"mx.none", "mx.present"}},
		{"nullpref.test", map[string]report.Severity{"mx.null-mx": report.Warning}, nil},
		{"mixed.test", map[string]report.Severity{"mx.null-mx-mixed": report.Failure}, nil},
		{"cname.test", map[string]report.Severity{"mx.target-cname": report.Warning}, nil},
		{"literal.test", map[string]report.Severity{"mx.target-ip-literal": report.Failure}, nil},
		{"dangling.test", map[string]report.Severity{"mx.target-nxdomain": report.Failure}, nil},
		{"noaddr.test", map[string]report.Severity{"mx.target-no-address": report.Failure}, nil},
		{"private.test", map[string]report.Severity{"mx.target-private": report.Failure, "mx.no-reachable-host": report.Failure}, nil},
		{"halfprivate.test", map[string]report.Severity{"mx.target-some-private": report.Warning}, []string{"mx.no-reachable-host"}},
		{"dup.test", map[string]report.Severity{"mx.duplicate-host": report.Info}, nil},
		{"nordns.test", map[string]report.Severity{"ptr.missing": report.Failure}, nil},
		{"badfcrdns.test", map[string]report.Severity{"ptr.not-confirmed": report.Failure}, []string{"ptr.ok"}},
		{"generic.test", map[string]report.Severity{"ptr.generic": report.Warning}, []string{"ptr.not-confirmed"}},
		{"invalidptr.test", map[string]report.Severity{"ptr.invalid-name": report.Failure}, nil},
		{"multiptr.test", map[string]report.Severity{"ptr.multiple": report.Info}, []string{"ptr.not-confirmed"}},
		// Failures are unknown, never "missing".
		{"servfail.test", map[string]report.Severity{"mx.lookup-failed": report.Unknown}, []string{"mx.none", "mx.implicit"}},
		{"failhost.test", map[string]report.Severity{"mx.target-lookup-failed": report.Unknown}, []string{"mx.target-no-address", "mx.target-nxdomain", "mx.no-reachable-host"}},
		{"failptr.test", map[string]report.Severity{"ptr.lookup-failed": report.Unknown}, []string{"ptr.missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res := LookupMX(ctx, c, tt.domain)
			got := reporttest.Severities(append(res.Findings(), LookupRDNS(ctx, c, res).Findings(res)...))
			for id, sev := range tt.want {
				if g, ok := got[id]; !ok || g != sev {
					t.Errorf("want %s=%s; got %s", id, sev, reporttest.IDs(got))
				}
			}
			for _, id := range tt.absent {
				if _, ok := got[id]; ok {
					t.Errorf("unexpected %s; got %s", id, reporttest.IDs(got))
				}
			}
		})
	}
}

func TestMXOrderAndAddrs(t *testing.T) {
	_, c := mxWorld(t)
	res := LookupMX(context.Background(), c, "good.test")
	if len(res.Hosts) != 2 || res.Hosts[0].Name != "mx1.good.test" || res.Hosts[1].Name != "mx2.good.test" {
		t.Fatalf("hosts = %+v", res.Hosts)
	}
	want := []netip.Addr{netip.MustParseAddr("81.2.69.10"), netip.MustParseAddr("2a00:1450:4001::10"), netip.MustParseAddr("81.2.69.11")}
	got := res.AllAddrs()
	if len(got) != len(want) {
		t.Fatalf("addrs = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("addrs = %v, want %v", got, want)
		}
	}
	if !res.Hosts[0].IPv6() || res.Hosts[1].IPv6() {
		t.Fatal("IPv6 presence wrong")
	}
	p, ok := LookupRDNS(context.Background(), c, res).For(want[1])
	if n := p.ConfirmedName(); !ok || n != "mx1.good.test" {
		t.Fatalf("IPv6 PTR not confirmed: %q", n)
	}
}

func TestGenericPTR(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.7")
	for _, tt := range []struct {
		name    string
		generic bool
	}{
		{"mail.example.com", false},
		{"mx1.example.com", false},
		{"smtp-out-7.example.com", false},
		{"mta-113-7.example.com", false}, // part of the address, but no generic word
		{"203-0-113-7.dyn.example.net", true},
		{"7.113.0.203.static.example.net", true},
		{"7-113-0-203.example.net", true},
		{"host203000113007.example.net", true},
		{"cb007107.example.net", true}, // 203.0.113.7 in hexadecimal
		{"dsl-42.example.net", true},
		{"ppp17.pool.example.net", true},
		{"dynamic.example.net", false}, // a word but no digits: could be a real host name
		{"1203-0-113-7.example.net", false},
		{"203-0-113-70.example.net", false},
		{"customer-113-7.example.net", true},
	} {
		got := GenericPTR(tt.name, a) != ""
		if got != tt.generic {
			t.Errorf("GenericPTR(%q) = %q, want generic=%v", tt.name, GenericPTR(tt.name, a), tt.generic)
		}
	}
}
