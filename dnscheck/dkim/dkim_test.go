//go:debug rsa1024min=0

// (The directive lets the test generate a 512-bit RSA key, which crypto/rsa
// refuses by default; mxray must recognise such keys as broken.)

package dkim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

// dkimKeys are generated once per test binary.
type dkimKeys struct {
	rsa512, rsa1024, rsa2048 string // base64 SubjectPublicKeyInfo
	rsa2048PKCS1             string // base64 bare RSAPublicKey
	rsaHuge                  string // base64 SPKI of a 4608-bit modulus (not a real key: only its size matters)
	ed                       string // base64 raw 32 octets
	edSPKI                   string // base64 SubjectPublicKeyInfo (wrong for DKIM)
}

func genDKIMKeys(t testing.TB) dkimKeys {
	t.Helper()
	spki := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	rsaKey := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatalf("rsa %d: %v", bits, err)
		}
		return k
	}
	var k dkimKeys
	k.rsa512 = spki(&rsaKey(512).PublicKey)
	k.rsa1024 = spki(&rsaKey(1024).PublicKey)
	r2048 := rsaKey(2048)
	k.rsa2048 = spki(&r2048.PublicKey)
	k.rsa2048PKCS1 = base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&r2048.PublicKey))
	// Generating a 4608-bit key takes seconds; the record check only reads
	// the modulus size, so any odd number of that size will do.
	buf := make([]byte, 4608/8)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	buf[0] |= 0x80
	buf[len(buf)-1] |= 1
	k.rsaHuge = spki(&rsa.PublicKey{N: new(big.Int).SetBytes(buf), E: 65537})
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.ed = base64.StdEncoding.EncodeToString(pub)
	k.edSPKI = spki(pub)
	return k
}

// zoneTXT writes a TXT record's value as zone-file strings of at most 255
// octets, as a DNS operator must (RFC 1035 §3.3.14), optionally splitting
// at a given offset first.
func zoneTXT(s string, splitAt int) string {
	var parts []string
	if splitAt > 0 && splitAt < len(s) {
		parts = append(parts, s[:splitAt])
		s = s[splitAt:]
	}
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	parts = append(parts, s)
	for i := range parts {
		parts[i] = `"` + parts[i] + `"`
	}
	return strings.Join(parts, " ")
}

func TestParseDKIMKey(t *testing.T) {
	keys := genDKIMKeys(t)
	tests := []struct {
		name    string
		txt     string
		wantErr bool
		check   func(t *testing.T, k *Key)
	}{
		{name: "rsa 2048", txt: "v=DKIM1; k=rsa; p=" + keys.rsa2048, check: func(t *testing.T, k *Key) {
			if k.Bits != 2048 || k.KeyErr != "" || k.KeyType != "rsa" || k.Revoked {
				t.Errorf("%+v", k)
			}
		}},
		{name: "rsa 1024, k defaults to rsa, no v", txt: "p=" + keys.rsa1024, check: func(t *testing.T, k *Key) {
			if k.Bits != 1024 || k.KeyType != "rsa" {
				t.Errorf("%+v", k)
			}
		}},
		{name: "rsa 512", txt: "v=DKIM1; p=" + keys.rsa512, check: func(t *testing.T, k *Key) {
			if k.Bits != 512 || k.KeyErr != "" {
				t.Errorf("%+v", k)
			}
		}},
		{name: "rsa pkcs1", txt: "v=DKIM1; p=" + keys.rsa2048PKCS1, check: func(t *testing.T, k *Key) {
			if k.Bits != 2048 || !k.PKCS1 {
				t.Errorf("%+v", k)
			}
		}},
		{name: "folded base64", txt: "v=DKIM1; p=" + keys.rsa1024[:50] + " \t " + keys.rsa1024[50:], check: func(t *testing.T, k *Key) {
			if k.Bits != 1024 {
				t.Errorf("%+v", k)
			}
		}},
		{name: "ed25519", txt: "v=DKIM1; k=ed25519; p=" + keys.ed, check: func(t *testing.T, k *Key) {
			if k.Bits != 256 || k.KeyErr != "" {
				t.Errorf("%+v", k)
			}
		}},
		{name: "ed25519 in SPKI", txt: "v=DKIM1; k=ed25519; p=" + keys.edSPKI, check: func(t *testing.T, k *Key) {
			if !strings.Contains(k.KeyErr, "SubjectPublicKeyInfo") {
				t.Errorf("key error %q", k.KeyErr)
			}
		}},
		{name: "rsa tag holding an ed25519 SPKI", txt: "v=DKIM1; k=rsa; p=" + keys.edSPKI, check: func(t *testing.T, k *Key) {
			if k.KeyErr == "" {
				t.Error("no key error")
			}
		}},
		{name: "revoked", txt: "v=DKIM1; p=", check: func(t *testing.T, k *Key) {
			if !k.Revoked {
				t.Error("not revoked")
			}
		}},
		{name: "flags, services, hashes, notes", txt: "v=DKIM1; h=sha1:sha256; s=email; t=y:s; n=hello; p=" + keys.ed + "; k=ed25519", check: func(t *testing.T, k *Key) {
			if !k.Testing() || !k.StrictDomain() || !k.ForEmail() || len(k.Hashes) != 2 || k.Notes != "hello" {
				t.Errorf("%+v", k)
			}
		}},
		{name: "service other than email", txt: "v=DKIM1; s=tlsrpt; p=" + keys.ed + "; k=ed25519", check: func(t *testing.T, k *Key) {
			if k.ForEmail() {
				t.Error("ForEmail")
			}
		}},
		{name: "v not first", txt: "k=rsa; v=DKIM1; p=" + keys.rsa1024, check: func(t *testing.T, k *Key) {
			if len(k.Errors) != 1 || k.Errors[0].Pos != 7 {
				t.Errorf("errors %v", k.Errors)
			}
		}},
		{name: "unknown tag", txt: "v=DKIM1; x=1; p=" + keys.ed + "; k=ed25519", check: func(t *testing.T, k *Key) {
			if len(k.Unknown) != 1 || k.Unknown[0].Name != "x" {
				t.Errorf("unknown %v", k.Unknown)
			}
		}},
		{name: "v=DKIM2", txt: "v=DKIM2; p=" + keys.ed, wantErr: true},
		{name: "no p", txt: "v=DKIM1; k=rsa", wantErr: true},
		{name: "bad base64", txt: "v=DKIM1; p=!!!!", check: func(t *testing.T, k *Key) {
			if !strings.Contains(k.KeyErr, "base64") {
				t.Errorf("key error %q", k.KeyErr)
			}
		}},
		{name: "unknown key type", txt: "v=DKIM1; k=dsa; p=AAAA", check: func(t *testing.T, k *Key) {
			if !strings.Contains(k.KeyErr, "unknown key type") {
				t.Errorf("key error %q", k.KeyErr)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.txt)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if k == nil || k.Raw != tc.txt {
				t.Fatalf("key %+v", k)
			}
			if tc.check != nil {
				tc.check(t, k)
			}
		})
	}
}

// The key of RFC 8463 Appendix A.2 is the public half of the example
// private key given there; mxray decodes it to exactly that key.
func TestDKIMRFC8463Example(t *testing.T) {
	seed, _ := base64.StdEncoding.DecodeString("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
	want := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	srv := dnstest.Start(t, testworld.ReadZone(t, "testdata/dkim/world.zone"))
	res := Lookup(context.Background(), testworld.Client(t, srv), "football.example.com", []string{"brisbane"})
	s := res.Selectors[0]
	if s.Key == nil || s.Key.KeyType != "ed25519" || s.Key.KeyErr != "" {
		t.Fatalf("selector %+v", s)
	}
	got, _ := base64.StdEncoding.DecodeString(s.Key.PublicKey)
	if !want.Equal(ed25519.PublicKey(got)) {
		t.Errorf("decoded key %x, want %x", got, want)
	}
	ids := reporttest.Severities(res.Findings())
	if ids["dkim.key"] != report.OK || ids["dkim.ed25519-only"] != report.Info {
		t.Errorf("findings %v", ids)
	}
}

func TestLookupDKIMFindings(t *testing.T) {
	keys := genDKIMKeys(t)
	srv := dnstest.Start(t, testworld.ReadZone(t, "testdata/dkim/world.zone"))
	add := func(name, value string, splitAt int) {
		if err := srv.AddRR(name + " 300 IN TXT " + zoneTXT(value, splitAt)); err != nil {
			t.Fatal(err)
		}
	}
	add("r2048._domainkey.keys.example.", "v=DKIM1; k=rsa; p="+keys.rsa2048, 0)
	// Split inside the tag name "p": the strings must be joined without separator.
	add("split._domainkey.keys.example.", "v=DKIM1; k=rsa; p="+keys.rsa2048, 16)
	add("r1024._domainkey.keys.example.", "v=DKIM1; k=rsa; p="+keys.rsa1024, 0)
	add("r512._domainkey.keys.example.", "v=DKIM1; k=rsa; p="+keys.rsa512, 0)
	add("pkcs1._domainkey.keys.example.", "v=DKIM1; k=rsa; p="+keys.rsa2048PKCS1, 0)
	add("ed._domainkey.keys.example.", "v=DKIM1; k=ed25519; p="+keys.ed, 0)
	add("edspki._domainkey.keys.example.", "v=DKIM1; k=ed25519; p="+keys.edSPKI, 0)
	add("testing._domainkey.keys.example.", "v=DKIM1; t=y; p="+keys.rsa2048, 0)
	add("strict._domainkey.keys.example.", "v=DKIM1; t=s; p="+keys.rsa2048, 0)
	add("sha1._domainkey.keys.example.", "v=DKIM1; h=sha1; p="+keys.rsa2048, 0)
	add("svc._domainkey.keys.example.", "v=DKIM1; s=tlsrpt; p="+keys.rsa2048, 0)
	add("syntax._domainkey.keys.example.", "v=DKIM1; k=rsa;; p="+keys.rsa2048, 0)
	add("big._domainkey.keys.example.", "v=DKIM1; p="+keys.rsaHuge, 0)
	add("extra._domainkey.keys.example.", "v=DKIM1; x=1; p="+keys.rsa2048, 0)
	add("two._domainkey.keys.example.", "v=DKIM1; p="+keys.rsa2048, 0)
	add("two._domainkey.keys.example.", "v=DKIM1; p="+keys.rsa1024, 0)
	add("s1.domainkey.u1234.provider.example.", "v=DKIM1; k=rsa; p="+keys.rsa2048, 0)
	// Guessable selectors on guess.example.
	add("google._domainkey.guess.example.", "v=DKIM1; k=rsa; p="+keys.rsa2048, 0)
	add("selector1._domainkey.guess.example.", "v=DKIM1; k=rsa; p="+keys.rsa1024, 0)

	drop := dnstest.Fault{Drop: true}
	servfail := dnstest.Fault{Rcode: dns.RcodeServerFailure}
	tests := []struct {
		name      string
		domain    string
		selectors []string
		fault     *dnstest.Fault
		faultName string
		want      map[string]report.Severity
		absent    []string
		check     func(t *testing.T, r *Result)
	}{
		{name: "rsa 2048", domain: "keys.example", selectors: []string{"r2048"}, want: map[string]report.Severity{"dkim.key": report.OK},
			absent: []string{"dkim.rsa-1024", "dkim.syntax", "dkim.none-guessed", "dkim.guessed"}},
		{name: "split record joined", domain: "keys.example", selectors: []string{"split"}, want: map[string]report.Severity{"dkim.key": report.OK},
			check: func(t *testing.T, r *Result) {
				s := r.Selectors[0]
				if len(s.Strings) != 1 || len(s.Strings[0]) < 3 || s.Key.Bits != 2048 {
					t.Errorf("strings %d, key %+v", len(s.Strings[0]), s.Key)
				}
			}},
		{name: "rsa 1024", domain: "keys.example", selectors: []string{"r1024"}, want: map[string]report.Severity{"dkim.rsa-1024": report.Warning}, absent: []string{"dkim.key"}},
		{name: "escapes in TXT data", domain: "keys.example", selectors: []string{"esc"}, want: map[string]report.Severity{"dkim.key": report.OK},
			absent: []string{"dkim.syntax", "dkim.bad-key"},
			check: func(t *testing.T, r *Result) {
				if k := r.Selectors[0].Key; k == nil || k.KeyType != "ed25519" || !strings.HasPrefix(k.Raw, "v=DKIM1; k=ed25519") {
					t.Errorf("key %+v", k)
				}
			}},
		{name: "rsa 4608", domain: "keys.example", selectors: []string{"big"}, want: map[string]report.Severity{"dkim.rsa-too-long": report.Warning}, absent: []string{"dkim.key"}},
		{name: "unknown tag", domain: "keys.example", selectors: []string{"extra"}, want: map[string]report.Severity{"dkim.unknown-tag": report.Info, "dkim.key": report.OK}},
		{name: "revoked, guessed", domain: "rotated.example", want: map[string]report.Severity{"dkim.revoked": report.Info, "dkim.guessed": report.Info}},
		{name: "rsa 512", domain: "keys.example", selectors: []string{"r512"}, want: map[string]report.Severity{"dkim.rsa-too-short": report.Failure}, absent: []string{"dkim.key"}},
		{name: "pkcs1", domain: "keys.example", selectors: []string{"pkcs1"}, want: map[string]report.Severity{"dkim.key": report.OK, "dkim.rsa-pkcs1": report.Info}},
		{name: "ed25519", domain: "keys.example", selectors: []string{"ed"}, want: map[string]report.Severity{"dkim.key": report.OK, "dkim.ed25519-only": report.Info}},
		{name: "ed25519 wrapped", domain: "keys.example", selectors: []string{"edspki"}, want: map[string]report.Severity{"dkim.bad-key": report.Failure}, absent: []string{"dkim.key"}},
		{name: "revoked, given", domain: "keys.example", selectors: []string{"old"}, want: map[string]report.Severity{"dkim.revoked": report.Failure}},
		{name: "not DKIM1", domain: "keys.example", selectors: []string{"v2"}, want: map[string]report.Severity{"dkim.invalid-record": report.Failure}},
		{name: "no p", domain: "keys.example", selectors: []string{"nop"}, want: map[string]report.Severity{"dkim.invalid-record": report.Failure}},
		{name: "junk base64", domain: "keys.example", selectors: []string{"junk"}, want: map[string]report.Severity{"dkim.bad-key": report.Failure}},
		{name: "unknown key type", domain: "keys.example", selectors: []string{"dsa"}, want: map[string]report.Severity{"dkim.bad-key": report.Failure}},
		{name: "short ed25519", domain: "keys.example", selectors: []string{"short"}, want: map[string]report.Severity{"dkim.bad-key": report.Failure}},
		{name: "testing", domain: "keys.example", selectors: []string{"testing"}, want: map[string]report.Severity{"dkim.testing": report.Info, "dkim.key": report.OK}},
		{name: "strict", domain: "keys.example", selectors: []string{"strict"}, want: map[string]report.Severity{"dkim.strict-domain": report.Info}},
		{name: "sha1 only", domain: "keys.example", selectors: []string{"sha1"}, want: map[string]report.Severity{"dkim.hash-no-sha256": report.Failure}},
		{name: "service type", domain: "keys.example", selectors: []string{"svc"}, want: map[string]report.Severity{"dkim.service-type": report.Failure}},
		{name: "syntax", domain: "keys.example", selectors: []string{"syntax"}, want: map[string]report.Severity{"dkim.syntax": report.Warning, "dkim.key": report.OK}},
		{name: "two records", domain: "keys.example", selectors: []string{"two"}, want: map[string]report.Severity{"dkim.multiple-records": report.Warning}},
		{name: "CNAME delegation followed", domain: "delegated.example", selectors: []string{"s1"}, want: map[string]report.Severity{"dkim.cname": report.Info, "dkim.key": report.OK},
			check: func(t *testing.T, r *Result) {
				if c := r.Selectors[0].CNAMEs; len(c) != 1 || c[0] != "s1.domainkey.u1234.provider.example." {
					t.Errorf("cnames %v", c)
				}
			}},
		{name: "ed25519 beside rsa", domain: "keys.example", selectors: []string{"ed", "r2048"}, want: map[string]report.Severity{"dkim.key": report.OK},
			absent: []string{"dkim.ed25519-only"}},
		{name: "given selector missing", domain: "keys.example", selectors: []string{"nosuch"}, want: map[string]report.Severity{"dkim.selector-missing": report.Failure}},
		{name: "several selectors", domain: "keys.example", selectors: []string{"r2048", "r1024", "R2048"},
			want: map[string]report.Severity{"dkim.key": report.OK, "dkim.rsa-1024": report.Warning},
			check: func(t *testing.T, r *Result) {
				if len(r.Selectors) != 2 {
					t.Errorf("%d selectors (duplicates not removed)", len(r.Selectors))
				}
			}},
		{name: "guessing finds some", domain: "guess.example",
			want:   map[string]report.Severity{"dkim.guessed": report.Info, "dkim.key": report.OK, "dkim.rsa-1024": report.Warning},
			absent: []string{"dkim.selector-missing", "dkim.none-guessed"},
			check: func(t *testing.T, r *Result) {
				if !r.Guessed || len(r.Selectors) != len(CommonSelectors) {
					t.Errorf("guessed %v, %d selectors", r.Guessed, len(r.Selectors))
				}
			}},
		{name: "guessing finds none", domain: "plain.example",
			want: map[string]report.Severity{"dkim.none-guessed": report.Info}, absent: []string{"dkim.selector-missing"},
			check: func(t *testing.T, r *Result) {
				f := reporttest.ByID(r.Findings(), "dkim.none-guessed")
				if len(f) != 1 || !strings.Contains(f[0].Summary, "proves nothing") {
					t.Errorf("%+v", f)
				}
			}},
		{name: "SERVFAIL", domain: "keys.example", selectors: []string{"r2048"}, fault: &servfail, faultName: "r2048._domainkey.keys.example",
			want: map[string]report.Severity{"dkim.lookup-failed": report.Unknown}, absent: []string{"dkim.selector-missing", "dkim.key"}},
		{name: "timeout", domain: "keys.example", selectors: []string{"r2048"}, fault: &drop, faultName: "r2048._domainkey.keys.example",
			want: map[string]report.Severity{"dkim.lookup-failed": report.Unknown}, absent: []string{"dkim.selector-missing", "dkim.key"}},
		// A guessed selector whose lookup fails is one line of a summary
		// finding, not a finding of its own; the others still say "none".
		{name: "guessing with a timeout", domain: "plain.example", fault: &drop, faultName: "google._domainkey.plain.example",
			want:   map[string]report.Severity{"dkim.guessed-lookups-failed": report.Unknown, "dkim.none-guessed": report.Info},
			absent: []string{"dkim.guessed", "dkim.lookup-failed"}},
		// Every guess failed: nothing was observed, so no "none of them has
		// a key" either.
		{name: "guessing when every lookup fails", domain: "plain.example", fault: &servfail, faultName: "*",
			want:   map[string]report.Severity{"dkim.guessed-lookups-failed": report.Unknown},
			absent: []string{"dkim.guessed", "dkim.none-guessed", "dkim.lookup-failed"}},
		{name: "a given selector whose lookup fails is its own finding", domain: "plain.example", selectors: []string{"google"}, fault: &drop, faultName: "google._domainkey.plain.example",
			want:   map[string]report.Severity{"dkim.lookup-failed": report.Unknown},
			absent: []string{"dkim.guessed-lookups-failed"}},
		{name: "guessing under a wildcard TXT", domain: "wild.example",
			want:   map[string]report.Severity{"dkim.guessed-not-keys": report.Info, "dkim.none-guessed": report.Info},
			absent: []string{"dkim.invalid-record", "dkim.guessed"}},
		{name: "given selector under a wildcard TXT", domain: "wild.example", selectors: []string{"mine"},
			want: map[string]report.Severity{"dkim.invalid-record": report.Failure}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ClearFaults()
			switch {
			case tc.fault != nil && tc.faultName == "*":
				srv.SetFaultAll(*tc.fault)
			case tc.fault != nil:
				srv.SetFault(tc.faultName, dns.TypeTXT, *tc.fault)
			}
			defer srv.ClearFaults()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := Lookup(ctx, testworld.Client(t, srv), tc.domain, tc.selectors)
			fs := r.Findings()
			got := reporttest.Severities(fs)
			for id, sev := range tc.want {
				if g, ok := got[id]; !ok || g != sev {
					t.Errorf("finding %s: got %v (present %v), want %v\nall: %v", id, g, ok, sev, got)
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("unexpected finding %s\nall: %v", id, got)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestValidDKIMSelector(t *testing.T) {
	for s, ok := range map[string]bool{"default": true, "s1.eu": true, "2024-01_a": true, "": false, "a b": false, "a..b": false, "x/y": false} {
		if err := ValidSelector(s); (err == nil) != ok {
			t.Errorf("ValidDKIMSelector(%q) = %v", s, err)
		}
	}
}

// BenchmarkLookupDKIMGuessed measures trying every common selector against a
// dnstest server with 2 ms per answer: concurrency keeps the wall time near
// one round trip, not len(CommonSelectors) of them.
func BenchmarkLookupDKIMGuessed(b *testing.B) {
	srv, err := dnstest.New(`plain.example. 300 IN A 192.0.2.1`)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(2 * time.Millisecond)
	for i := 0; i < b.N; i++ {
		c, _ := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{MaxInFlight: 64})
		r := Lookup(context.Background(), c, "plain.example", nil)
		if len(r.Selectors) != len(CommonSelectors) {
			b.Fatal(fmt.Sprint(len(r.Selectors)))
		}
	}
}

// FuzzParseDKIMKey: the parser never panics and positions stay in the record.
func FuzzParseDKIMKey(f *testing.F) {
	for _, s := range []string{
		"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
		"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
		"v=DKIM1; p=", "k=dsa; p=AAAA", "v=DKIM1;; t=y:s; h=sha1; s=*; p = AA AA", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if k == nil {
			t.Fatal("nil key")
		}
		for _, e := range k.Errors {
			if e.Pos < 0 || e.Pos > len(s) {
				t.Fatalf("error position %d outside %q", e.Pos, s)
			}
		}
		if err == nil && k.Revoked && k.PublicKey != "" {
			t.Fatal("revoked with a key")
		}
		sel := Selector{Selector: "s", Name: "s._domainkey.example.com.", Given: true, Records: []string{s}, Strings: [][]string{{s}},
			Key: k, Answer: dnscheck.Answer{Status: dnscheck.StatusOK}}
		if err != nil {
			sel.KeyErr = err.Error()
		}
		_ = (&Result{Domain: "example.com", Selectors: []Selector{sel}}).Findings()
	})
}
