package dane

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

func TestMatchTLSA(t *testing.T) {
	ca := testworld.NewCA(t)
	now := time.Now()
	_, leaf := ca.Leaf(t, []string{"mx1.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	_, other := ca.Leaf(t, []string{"mx1.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	// An expired leaf with a wrong name: DANE-EE ignores both (RFC 7672 §3.1.1).
	_, expiredWrongName := ca.Leaf(t, []string{"elsewhere.example"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	chain := []*x509.Certificate{leaf, ca.Cert}

	rec := func(u, s, m uint8, data string) TLSARecord {
		return TLSARecord{Usage: u, Selector: s, MatchingType: m, Data: data,
			Raw: fmt.Sprintf("_25._tcp.mx1.example.com. 300 IN TLSA %d %d %d %s", u, s, m, data)}
	}
	tests := []struct {
		name    string
		recs    []TLSARecord
		chain   []*x509.Certificate
		match   int // index of the matching record, -1 for none
		reasons int
		reason  string
	}{
		{"DANE-EE SPKI SHA-256", []TLSARecord{rec(3, 1, 1, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, 0, 0, ""},
		{"DANE-EE Cert SHA-512", []TLSARecord{rec(3, 0, 2, sha512hex(leaf.Raw))}, chain, 0, 0, ""},
		{"DANE-EE Cert Full", []TLSARecord{rec(3, 0, 0, hex.EncodeToString(leaf.Raw))}, chain, 0, 0, ""},
		{"DANE-EE SPKI Full", []TLSARecord{rec(3, 1, 0, hex.EncodeToString(leaf.RawSubjectPublicKeyInfo))}, chain, 0, 0, ""},
		{"DANE-EE ignores expiry and name", []TLSARecord{rec(3, 1, 1, sha256hex(expiredWrongName.RawSubjectPublicKeyInfo))},
			[]*x509.Certificate{expiredWrongName}, 0, 0, ""},
		{"DANE-TA matches the issuer in the chain", []TLSARecord{rec(2, 0, 1, sha256hex(ca.Cert.Raw))}, chain, 0, 0, ""},
		{"DANE-TA needs the anchor in the chain", []TLSARecord{rec(2, 0, 1, sha256hex(ca.Cert.Raw))}, chain[:1], -1, 1, "any of the 1 certificates"},
		{"DANE-EE does not match the issuer", []TLSARecord{rec(3, 0, 1, sha256hex(ca.Cert.Raw))}, chain, -1, 1, "does not match the leaf"},
		{"second record matches (key rollover)", []TLSARecord{rec(3, 1, 1, sha256hex(other.RawSubjectPublicKeyInfo)), rec(3, 1, 1, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, 1, 1, "does not match"},
		{"PKIX-EE is unusable for SMTP", []TLSARecord{rec(1, 1, 1, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, -1, 1, "unusable for SMTP"},
		{"PKIX-TA is unusable for SMTP", []TLSARecord{rec(0, 0, 1, sha256hex(ca.Cert.Raw))}, chain, -1, 1, "unusable for SMTP"},
		{"wrong digest length", []TLSARecord{rec(3, 1, 1, sha256hex(leaf.RawSubjectPublicKeyInfo)[:40])}, chain, -1, 1, "not 32"},
		{"SHA-512 length", []TLSARecord{rec(3, 1, 2, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, -1, 1, "not 64"},
		{"not hex", []TLSARecord{rec(3, 1, 1, "zz")}, chain, -1, 1, "not hexadecimal"},
		{"undefined matching type", []TLSARecord{rec(3, 1, 7, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, -1, 1, "matching type 7"},
		{"undefined selector", []TLSARecord{rec(3, 4, 1, sha256hex(leaf.RawSubjectPublicKeyInfo))}, chain, -1, 1, "selector 4"},
		{"garbage full certificate", []TLSARecord{rec(3, 0, 0, "3003020100")}, chain, -1, 1, "does not parse"},
		{"no chain", []TLSARecord{rec(3, 1, 1, sha256hex(leaf.RawSubjectPublicKeyInfo))}, nil, -1, 1, "no certificate"},
		{"no records", nil, chain, -1, 1, "no TLSA records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reasons := MatchTLSA(tt.recs, tt.chain)
			switch {
			case tt.match < 0 && got != nil:
				t.Fatalf("matched %+v", got)
			case tt.match >= 0 && (got == nil || got != &tt.recs[tt.match]):
				t.Fatalf("got %v, want record %d; reasons %v", got, tt.match, reasons)
			}
			if len(reasons) != tt.reasons {
				t.Fatalf("reasons = %q, want %d", reasons, tt.reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(reasons, "\n"), tt.reason) {
				t.Fatalf("reasons = %q, want %q", reasons, tt.reason)
			}
		})
	}
	if r := TLSARecordFor("mx1.example.com", 25, leaf); r != "_25._tcp.mx1.example.com. IN TLSA 3 1 1 "+sha256hex(leaf.RawSubjectPublicKeyInfo) {
		t.Errorf("TLSARecordFor = %q", r)
	}
}

func TestLookupTLSA(t *testing.T) {
	spki := strings.Repeat("ab", 32)
	zone := `
secure.example.      IN SOA ns.secure.example. h.secure.example. 1 3600 600 86400 300
_25._tcp.mx1.secure.example. IN TLSA 3 1 1 ` + spki + `
_25._tcp.mx1.secure.example. IN TLSA 1 1 1 ` + spki + `
_25._tcp.pkix.secure.example. IN TLSA 1 1 1 ` + spki + `
_25._tcp.bad.secure.example. IN TLSA 3 1 1 abcd
mx2.secure.example.  IN A 192.0.2.2
plain.example.       IN SOA ns.plain.example. h.plain.example. 1 3600 600 86400 300
_25._tcp.mx1.plain.example. IN TLSA 3 1 1 ` + spki + `
`
	srv := dnstest.Start(t, zone)
	srv.Secure("secure.example")
	srv.SetFault("_25._tcp.fail.secure.example.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("_25._tcp.slow.secure.example.", 0, dnstest.Fault{Drop: true})
	c := testworld.Client(t, srv)
	tests := []struct {
		host    string
		status  string
		records int
		ad      bool
		want    map[string]report.Severity
	}{
		{"mx1.secure.example", StatusOK, 2, true, map[string]report.Severity{"dane.ok": report.OK, "dane.record-unusable": report.Warning}},
		{"MX1.Secure.Example.", StatusOK, 2, true, map[string]report.Severity{"dane.ok": report.OK, "dane.record-unusable": report.Warning}},
		{"pkix.secure.example", StatusUnusable, 1, true, map[string]report.Severity{"dane.no-usable-record": report.Failure, "dane.record-unusable": report.Warning}},
		{"bad.secure.example", StatusUnusable, 1, true, map[string]report.Severity{"dane.no-usable-record": report.Failure, "dane.record-malformed": report.Failure}},
		{"mx2.secure.example", StatusNone, 0, true, map[string]report.Severity{"dane.none": report.Info}},
		{"mx1.plain.example", StatusInsecure, 1, false, map[string]report.Severity{"dane.insecure": report.Warning}},
		{"fail.secure.example", StatusUnknown, 0, false, map[string]report.Severity{"dane.lookup-failed": report.Unknown}},
		{"slow.secure.example", StatusUnknown, 0, false, map[string]report.Severity{"dane.lookup-failed": report.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := LookupTLSA(context.Background(), c, tt.host, 25)
			if h.Status != tt.status || len(h.Records) != tt.records || h.Authenticated != tt.ad || h.Port != 25 {
				t.Fatalf("got status=%s records=%d ad=%v", h.Status, len(h.Records), h.Authenticated)
			}
			d := &Result{Hosts: []Host{h}}
			if got := reporttest.Severities(d.Findings()); reporttest.IDs(got) != reporttest.IDs(tt.want) {
				t.Fatalf("got  %s\nwant %s", reporttest.IDs(got), reporttest.IDs(tt.want))
			}
			if got, ok := d.TLSAFor(strings.ToUpper(strings.TrimSuffix(tt.host, ".")) + "."); !ok || got.Status != tt.status {
				t.Fatalf("TLSAFor: %v %v", got, ok)
			}
		})
	}
	t.Run("several hosts", func(t *testing.T) {
		d := Lookup(context.Background(), c, []string{"mx1.secure.example", "mx2.secure.example"})
		got := reporttest.Severities(d.Findings())
		if got["dane.partial"] != report.Info || got["dane.ok"] != report.OK {
			t.Fatalf("got %s", reporttest.IDs(got))
		}
		if _, ok := d.TLSAFor("mx3.secure.example"); ok {
			t.Fatal("TLSAFor found a host that is not there")
		}
		var nilResult *Result
		if _, ok := nilResult.TLSAFor("x"); ok {
			t.Fatal("nil result")
		}
	})
	t.Run("address not authenticated", func(t *testing.T) {
		h := LookupTLSA(context.Background(), c, "mx1.secure.example", 25)
		no := false
		h.AddrAuthenticated = &no
		got := reporttest.Severities((&Result{Hosts: []Host{h}}).Findings())
		if got["dane.address-insecure"] != report.Warning {
			t.Fatalf("got %s", reporttest.IDs(got))
		}
	})
}

func BenchmarkMatchTLSA(b *testing.B) {
	ca := testworld.NewCA(b)
	now := time.Now()
	_, leaf := ca.Leaf(b, []string{"mx1.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	recs := []TLSARecord{
		{Usage: 3, Selector: 1, MatchingType: 1, Data: strings.Repeat("00", 32)},
		{Usage: 2, Selector: 0, MatchingType: 2, Data: strings.Repeat("00", 64)},
		{Usage: 3, Selector: 1, MatchingType: 1, Data: sha256hex(leaf.RawSubjectPublicKeyInfo)},
	}
	chain := []*x509.Certificate{leaf, ca.Cert}
	for b.Loop() {
		if m, _ := MatchTLSA(recs, chain); m == nil {
			b.Fatal("no match")
		}
	}
}

// TestLookupTLSACNAMEExpansion: RFC 7672 §2.2.3 — a securely aliased MX host
// name has its TLSA records at the expanded name first, at the original name
// as a fall back; an insecure alias keeps the original name.
func TestLookupTLSACNAMEExpansion(t *testing.T) {
	const zone = `
example.test.                    IN SOA ns.example.test. h.example.test. 1 3600 600 86400 300
mx.example.test.                 IN CNAME mail.hoster.test.
fallback.example.test.           IN CNAME plain.hoster.test.
_25._tcp.fallback.example.test.  IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000002
insecure.example.test.           IN CNAME mail.unsigned.test.
_25._tcp.insecure.example.test.  IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000003
hoster.test.                     IN SOA ns.hoster.test. h.hoster.test. 1 3600 600 86400 300
mail.hoster.test.                IN A 192.0.2.25
_25._tcp.mail.hoster.test.       IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000001
plain.hoster.test.               IN A 192.0.2.26
unsigned.test.                   IN SOA ns.unsigned.test. h.unsigned.test. 1 3600 600 86400 300
mail.unsigned.test.              IN A 192.0.2.27
_25._tcp.mail.unsigned.test.     IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000004
`
	srv := dnstest.Start(t, zone)
	srv.Secure("example.test.")
	srv.Secure("hoster.test.")
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		host, base, data string
	}{
		{"mx.example.test", "mail.hoster.test", "01"}, // expanded name wins
		{"fallback.example.test", "", "02"},           // nothing at the expansion: the original name
		{"insecure.example.test", "", "03"},           // the alias chain is not all secure: the original name
	} {
		h := LookupTLSA(context.Background(), c, tt.host, 25)
		if h.Base != tt.base || len(h.Records) != 1 || !strings.HasSuffix(strings.ToLower(h.Records[0].Data), tt.data) {
			t.Errorf("%s: base %q records %+v; want base %q and the record ending in %s", tt.host, h.Base, h.Records, tt.base, tt.data)
		}
	}
}
