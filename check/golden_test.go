package check

// The golden reports: a whole `mxray check` of a realistic domain
// (testdata/zones/example.com.zone) rendered as text and as JSON, compared
// with testdata/golden/. Run `go test ./check -run TestGolden -update` to
// rewrite them after an intended change, and review the diff.
//
// Everything the check touches is on this machine: DNS from dnstest, the MX
// hosts are go-smtp fakes reached through a dialer that routes the MX
// addresses to loopback (any other address fails the test), the MTA-STS
// policy comes from an httptest TLS server. Values that change from run to
// run (durations, dates of certificates made in the test, ports, the random
// catch-all local part) are replaced by placeholders before comparison.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/dnscheck/dnsbl"

	"crypto/tls"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/golden")

func TestGoldenReport(t *testing.T) {
	zone, err := os.ReadFile("../testdata/zones/example.com.zone")
	if err != nil {
		t.Fatal(err)
	}
	dnsSrv := dnstest.Start(t, string(zone))
	res, err := dnscheck.NewClient([]string{dnsSrv.Addr}, dnscheck.Options{AttemptTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}

	// The two MX hosts: go-smtp fakes with STARTTLS and certificates from a
	// test CA.
	pki := smtptest.NewPKI(t)
	mx := func(name string) *smtptest.Server {
		cert := pki.Cert(smtptest.CertOptions{DNSNames: []string{name}})
		return smtptest.Start(t, smtptest.Options{Domain: name, LocalDomains: []string{"example.com"},
			Users: []string{"alice", "bob"}, TLS: smtptest.ServerConfig(cert), MaxMessageBytes: 50 << 20})
	}
	mx1, mx2 := mx("mx1.example.com"), mx("mx2.example.com")
	dial := smtptest.Router(map[string]string{
		"81.2.69.142:25":              mx1.Addr,
		"[2a00:1450:4001:82a::1b]:25": mx1.Addr,
		"81.2.69.143:25":              mx2.Addr,
	})

	// The MTA-STS policy host.
	cert := pki.Cert(smtptest.CertOptions{DNSNames: []string{"mta-sts.example.com"}})
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/mta-sts.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 604800\r\n")
	})
	hs := httptest.NewUnstartedServer(mux)
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	httpAddr := hs.Listener.Addr().String()
	httpClient := httpsfetch.NewClient(httpsfetch.Options{Resolver: res, RootCAs: pki.Pool(),
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			if address != "93.184.215.15:443" {
				return nil, fmt.Errorf("golden test: unexpected HTTPS dial to %s", address)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, httpAddr)
		}})

	cfg := Config{
		Resolver:   res,
		Dial:       dial,
		HTTPClient: httpClient,
		Version:    "golden",
		SMTP:       SMTPOptions{HELO: "probe.mxray.example", TLS: probe.TLSOptions{RootCAs: pki.Pool()}},
		DNSBL:      DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.org:ipv4"}}},
		DKIM:       DKIMOptions{Selectors: []string{"s1", "google"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Domain(ctx, cfg, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	smtptest.AssertNoMessage(t, mx1.Rec, mx2.Rec)
	rep.Trace = nil

	var text, js bytes.Buffer
	if err := report.WriteText(&text, rep, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "check-example.com.txt", normalizeGolden(text.String()))
	compareGolden(t, "check-example.com.json", normalizeGolden(normalizeJSONTimes(t, js.Bytes())))
}

var goldenNormalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Timestamps and dates (certificates are made in the test, so their
	// validity moves with the clock).
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?( UTC)?)?`), "<date>"},
	{regexp.MustCompile(`\b\d+ days?\b`), "<n> days"},
	{regexp.MustCompile(`\b\d{8}T\d{6}\b`), "<stamp>"},
	// Durations, in text and as JSON numbers of fields that hold times.
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b`), "<dur>"},
	// Loopback ports of the fakes, serial numbers and fingerprints of
	// certificates made in the test.
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	{regexp.MustCompile(`\b[0-9a-f]{12}@`), "<random>@"},
	{regexp.MustCompile(`\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){7,}\b`), "<hex>"},
	{regexp.MustCompile(`\b[0-9a-f]{32,}\b`), "<hex>"},
}

// normalizeJSONTimes zeroes every number that measures time: the fields
// named like durations and everything inside a "timings" object.
func normalizeJSONTimes(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("report JSON does not parse: %v", err)
	}
	var walk func(v any, timing bool) any
	walk = func(v any, timing bool) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e, timing || k == "timings" || timeKey.MatchString(k))
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e, timing)
			}
		case json.Number:
			if timing {
				return json.Number("0")
			}
		}
		return v
	}
	v = walk(v, false)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

var timeKey = regexp.MustCompile(`duration|_ms$|elapsed|latency|^time|_time$`)

func normalizeGolden(s string) string {
	for _, n := range goldenNormalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run `go test ./check -run TestGolden -update` and review the diff.\n%s", name, lineDiff(string(want), got))
	}
}

// lineDiff shows the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	wl, gl := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	var b bytes.Buffer
	shown := 0
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, w, g)
			if shown++; shown == 10 {
				break
			}
		}
	}
	return b.String()
}
