package check

// Tests of the mta-sts, tls-rpt, bimi, dane and dnssec parts through
// check.Domain: a dnstest zone world, an httptest TLS server reached by the
// production HTTP client (its Dial routes every host to the server, its
// roots are a CA generated here).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// policyWorldTLS returns a server certificate for names signed by a fresh
// CA, and a pool trusting that CA.
func policyWorldTLS(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool, *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, leaf
}

type policyWorld struct {
	srv    *dnstest.Server
	cfg    Config
	policy string // served at /.well-known/mta-sts.txt
	leaf   *x509.Certificate
}

const policyWorldZone = `
example.com.             IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300
example.com.             IN MX 10 mx1.example.com.
example.com.             IN MX 20 mx2.example.net.
mx1.example.com.         IN A 192.0.2.10
mx2.example.net.         IN A 192.0.2.20
_mta-sts.example.com.    IN TXT "v=STSv1; id=20260101"
mta-sts.example.com.     IN A 127.0.0.1
_smtp._tls.example.com.  IN TXT "v=TLSRPTv1; rua=mailto:tls@example.com"
default._bimi.example.com. IN TXT "v=BIMI1; l=https://mta-sts.example.com/logo.svg"
_dmarc.example.com.      IN TXT "v=DMARC1; p=reject"
example.net.             IN SOA ns.example.net. h.example.net. 1 3600 600 86400 300
`

func newPolicyWorld(t *testing.T, extraZone string) *policyWorld {
	t.Helper()
	w := &policyWorld{}
	cert, pool, leaf := policyWorldTLS(t, "mta-sts.example.com")
	w.leaf = leaf
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/mta-sts.txt", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(rw, w.policy)
	})
	mux.HandleFunc("/logo.svg", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(rw, `<svg version="1.2" baseProfile="tiny-ps" xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>`)
	})
	hs := httptest.NewUnstartedServer(mux)
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short at cleanup
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hs.StartTLS()
	t.Cleanup(hs.Close)

	w.srv = dnstest.Start(t, policyWorldZone+extraZone)
	res, err := dnscheck.NewClient([]string{w.srv.Addr}, dnscheck.Options{AttemptTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr := hs.Listener.Addr().String()
	client := httpsfetch.NewClient(httpsfetch.Options{Resolver: res, RootCAs: pool, AllowSpecialUse: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})
	w.cfg = Config{Resolver: res, HTTPClient: client, Only: []string{"mta-sts", "tls-rpt", "bimi", "dane", "dnssec"},
		Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }}
	return w
}

func policySeverities(rep *report.Report, prefix ...string) string {
	m := map[string]report.Severity{}
	for _, f := range rep.Findings() {
		keep := false
		for _, p := range prefix {
			keep = keep || strings.HasPrefix(f.ID, p)
		}
		if !keep {
			continue
		}
		if old, ok := m[f.ID]; !ok || report.Worst(old, f.Severity) == f.Severity {
			m[f.ID] = f.Severity
		}
	}
	var out []string
	for id, s := range m {
		out = append(out, id+"="+s.String())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestPolicyParts(t *testing.T) {
	enforceBoth := "version: STSv1\nmode: enforce\nmx: *.example.com\nmx: mx2.example.net\nmax_age: 1209600\n"
	enforceOne := "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 1209600\n"
	tests := []struct {
		name   string
		extra  string
		policy string
		setup  func(w *policyWorld)
		prefix []string
		want   string
		exit   int
	}{
		{name: "MTA-STS enforce, every MX matches", policy: enforceBoth, prefix: []string{"mta-sts."},
			want: "mta-sts.mx-match=ok mta-sts.policy=ok mta-sts.record=ok"},
		{name: "MTA-STS enforce, mx2 does not match", policy: enforceOne, prefix: []string{"mta-sts."},
			want: "mta-sts.mx-match=ok mta-sts.mx-mismatch=failure mta-sts.policy=ok mta-sts.record=ok", exit: report.ExitFailure},
		{name: "MX SERVFAIL: no match possible", policy: enforceBoth, prefix: []string{"mta-sts.", "dane."},
			setup: func(w *policyWorld) {
				w.srv.SetFault("example.com.", dns.TypeMX, dnstest.Fault{Rcode: dns.RcodeServerFailure})
			},
			want: "dane.mx-unknown=unknown mta-sts.mx-unknown=unknown mta-sts.policy=ok mta-sts.record=ok"},
		{name: "TLS-RPT missing while MTA-STS enforces", policy: enforceBoth, prefix: []string{"tls-rpt."},
			setup: func(w *policyWorld) { w.srv.RemoveName("_smtp._tls.example.com.") },
			want:  "tls-rpt.none=warning"},
		{name: "TLS-RPT missing, no MTA-STS", policy: enforceBoth, prefix: []string{"tls-rpt.", "mta-sts."},
			setup: func(w *policyWorld) {
				w.srv.RemoveName("_smtp._tls.example.com.")
				w.srv.RemoveName("_mta-sts.example.com.")
				w.srv.RemoveName("mta-sts.example.com.")
			},
			want: "mta-sts.none=info tls-rpt.none=info"},
		{name: "TLS-RPT timeout", policy: enforceBoth, prefix: []string{"tls-rpt."},
			setup: func(w *policyWorld) { w.srv.SetFault("_smtp._tls.example.com.", 0, dnstest.Fault{Drop: true}) },
			want:  "tls-rpt.lookup-failed=unknown"},
		{name: "BIMI with DMARC reject", policy: enforceBoth, prefix: []string{"bimi."},
			want: "bimi.dmarc-enforced=ok bimi.logo-ok=ok bimi.no-evidence=info bimi.record=ok"},
		{name: "DANE on mx1 (signed zone), none on mx2", policy: enforceBoth, prefix: []string{"dane.", "dnssec."},
			extra: "_25._tcp.mx1.example.com. IN TLSA 3 1 1 " + strings.Repeat("0f", 32) + "\n",
			setup: func(w *policyWorld) { w.srv.Secure("example.com") },
			want:  "dane.ok=ok dane.partial=info dnssec.secure=ok dnssec.unsigned=info"},
		{name: "TLSA in an unsigned zone", policy: enforceBoth, prefix: []string{"dane."},
			extra: "_25._tcp.mx1.example.com. IN TLSA 3 1 1 " + strings.Repeat("0f", 32) + "\n",
			want:  "dane.insecure=warning dane.partial=info"},
		{name: "TLSA SERVFAIL", policy: enforceBoth, prefix: []string{"dane."},
			setup: func(w *policyWorld) {
				w.srv.SetFault("_25._tcp.mx1.example.com.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
			},
			want: "dane.lookup-failed=unknown"},
		{name: "null MX", policy: enforceBoth, prefix: []string{"dane.", "mta-sts.mx"},
			setup: func(w *policyWorld) {
				w.srv.RemoveName("example.com.")
				if err := w.srv.AddRR("example.com. IN MX 0 ."); err != nil {
					panic(err)
				}
			},
			want: "dane.not-applicable=info"},
		{name: "no DANE anywhere", policy: enforceBoth, prefix: []string{"dane."}, want: "dane.none=info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPolicyWorld(t, tt.extra)
			w.policy = tt.policy
			if tt.setup != nil {
				tt.setup(w)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rep, err := Domain(ctx, w.cfg, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			if got := policySeverities(rep, tt.prefix...); got != tt.want {
				t.Fatalf("findings\n got  %s\n want %s", got, tt.want)
			}
			if tt.exit != 0 && rep.ExitCode() != tt.exit {
				t.Fatalf("exit code %d, want %d", rep.ExitCode(), tt.exit)
			}
			for _, f := range rep.Find("mta-sts.mx-mismatch") {
				if f.Subject != "mx2.example.net" || len(f.Publish) != 1 || f.Publish[0] != `_mta-sts.example.com. IN TXT "v=STSv1; id=20261126T120000"` ||
					!strings.Contains(f.Fix, "mx: mx2.example.net") {
					t.Fatalf("mismatch finding: %+v", f)
				}
			}
		})
	}
}

// TestDANEValueContract: the smtp part awaits "dane" and gets a
// *dane.Result whose TLSAFor and records MatchTLSA can use.
func TestDANEValueContract(t *testing.T) {
	w := newPolicyWorld(t, "")
	w.srv.Secure("example.com")
	sum := sha256.Sum256(w.leaf.RawSubjectPublicKeyInfo)
	if err := w.srv.AddRR("_25._tcp.mx1.example.com. IN TLSA 3 1 1 " + hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mx := dnscheck.LookupMX(ctx, w.cfg.Resolver, "example.com")
	done := make(chan struct{})
	close(done)
	env := &Env{Domain: "example.com", Config: &w.cfg, results: map[string]*partResult{
		"mx":   {done: done, value: mx, enabled: true},
		"dane": {done: done, enabled: true},
	}}
	_, v := runDANE(ctx, env)
	d, ok := v.(*dane.Result)
	if !ok || d == nil {
		t.Fatalf("value %T", v)
	}
	h, ok := d.TLSAFor("MX1.example.com.")
	if !ok || h.Status != dane.StatusOK || !h.Authenticated || h.AddrAuthenticated == nil || !*h.AddrAuthenticated {
		t.Fatalf("host %+v", h)
	}
	if rec, reasons := dane.MatchTLSA(h.Records, []*x509.Certificate{w.leaf}); rec == nil {
		t.Fatalf("no match: %v", reasons)
	}
	if h2, ok := d.TLSAFor("mx2.example.net"); !ok || h2.Status != dane.StatusNone {
		t.Fatalf("mx2: %+v %v", h2, ok)
	}

	// With the mx part skipped, the value is still a (empty) *dane.Result.
	env.results["mx"] = &partResult{done: done, enabled: false}
	secs, v := runDANE(ctx, env)
	if d, ok := v.(*dane.Result); !ok || d == nil || len(d.Hosts) != 0 {
		t.Fatalf("value %T %v", v, v)
	}
	if len(secs) != 1 || secs[0].Findings[0].ID != "dane.mx-unknown" {
		t.Fatalf("sections %+v", secs)
	}
}
