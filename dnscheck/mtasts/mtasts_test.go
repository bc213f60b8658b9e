package mtasts

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

func TestParseMTASTSRecord(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		ext     int
		wantErr string
	}{
		{"v=STSv1; id=20160831085700Z;", "20160831085700Z", 0, ""},
		{"v=STSv1;id=abc", "abc", 0, ""},
		{"v=STSv1 ; id=abc ; ", "abc", 0, ""},
		{"v=STSv1; id=1; foo_bar=baz", "1", 1, ""},
		{"v=STSv1; id=" + strings.Repeat("a", 32), strings.Repeat("a", 32), 0, ""},
		{"v=STSv2; id=1", "", 0, "must start with"},
		{"v=stsv1; id=1", "", 0, "must start with"},
		{"id=1; v=STSv1", "", 0, "must start with"},
		{"v=STSv1", "", 0, "\"id\" is missing"},
		{"v=STSv1;", "", 0, "\"id\" is missing"},
		{"v=STSv1; id=", "", 0, "1 to 32 letters"},
		{"v=STSv1; id=2026-01-01", "", 0, "1 to 32 letters"},
		{"v=STSv1; id=" + strings.Repeat("a", 33), "", 0, "1 to 32 letters"},
		{"v=STSv1; id=1; id=2", "", 0, "twice"},
		{"v=STSv1; v=STSv1; id=1", "", 0, "twice"},
		{"v=STSv1;; id=1", "", 0, "empty field"},
		{"v=STSv1; id=1; bad name=x", "", 0, "not valid"},
		{"v=STSv1; id=1; x=a b", "", 0, "value of"},
		{"v=STSv1; id=1; novalue", "", 0, "no \"=\""},
		{"", "", 0, "must start with"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rec, err := ParseRecord(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.ID != tt.id || len(rec.Extensions) != tt.ext || rec.Raw != tt.in {
				t.Fatalf("got %+v", rec)
			}
		})
	}
}

func TestSelectMTASTSRecord(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr string
	}{
		{[]string{"v=STSv1; id=1"}, "v=STSv1; id=1", ""},
		{[]string{"google-site-verification=x", "v=STSv1; id=1"}, "v=STSv1; id=1", ""},
		{[]string{"v=STSv1; id=1", "v=STSv1; id=2"}, "", "2 TXT records"},
		{[]string{"v=STSv10; id=1"}, "", "none of the 1"},
		{nil, "", "none of the 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			got, err := SelectRecord(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestParseMTASTSPolicy(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		mode     string
		maxAge   int64
		mx       []string
		warnings int
		wantErr  string
	}{
		{"rfc example CRLF", "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
			"enforce", 604800, []string{"mail.example.com", "*.example.net", "backupmx.example.com"}, 0, ""},
		{"LF, no final newline, fields in any order", "mx: MX.Example.COM\nmax_age: 86400\nmode: testing\nversion: STSv1",
			"testing", 86400, []string{"mx.example.com"}, 0, ""},
		{"mode none needs no mx", "version: STSv1\nmode: none\nmax_age: 0\n", "none", 0, nil, 0, ""},
		{"unknown field and blank line", "version: STSv1\n\nmode: enforce\nfoo: bar\nmx: a.example\nmax_age: 31557600\n",
			"enforce", 31557600, []string{"a.example"}, 2, ""},
		{"whitespace after colon and at end", "version:STSv1 \nmode:\tenforce\nmx:  a.example\t\nmax_age: 10\n", "enforce", 10, []string{"a.example"}, 0, ""},
		{"missing version", "mode: enforce\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "version: STSv1\" is missing"},
		{"bad version", "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "version must be"},
		{"bad mode", "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "mode must be"},
		{"missing mode", "version: STSv1\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "\"mode\" is missing"},
		{"missing max_age", "version: STSv1\nmode: enforce\nmx: a.example\n", "", 0, nil, 0, "\"max_age\" is missing"},
		{"max_age too large", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "", 0, nil, 0, "exceeds"},
		{"max_age negative", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "", 0, nil, 0, "1 to 10 digits"},
		{"max_age 11 digits", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 00000000001\n", "", 0, nil, 0, "1 to 10 digits"},
		{"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", "", 0, nil, 0, "at least one \"mx:\""},
		{"wildcard inside", "version: STSv1\nmode: enforce\nmx: mx.*.example\nmax_age: 1\n", "", 0, nil, 0, "wildcard"},
		{"partial wildcard", "version: STSv1\nmode: enforce\nmx: *mx.example\nmax_age: 1\n", "", 0, nil, 0, "wildcard"},
		{"trailing dot", "version: STSv1\nmode: enforce\nmx: mx.example.\nmax_age: 1\n", "", 0, nil, 0, "trailing dot"},
		{"duplicate mode", "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "more than once"},
		{"line without colon", "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "not \"key: value\""},
		{"space before colon", "version : STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", "", 0, nil, 0, "whitespace"},
		{"html page", "<html><body>Not Found</body></html>", "", 0, nil, 0, "not \"key: value\""},
		{"empty", "", "", 0, nil, 0, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Mode != tt.mode || p.MaxAge != tt.maxAge || strings.Join(p.MX, ",") != strings.Join(tt.mx, ",") || len(p.Warnings) != tt.warnings {
				t.Fatalf("got mode=%s max_age=%d mx=%v warnings=%v", p.Mode, p.MaxAge, p.MX, p.Warnings)
			}
		})
	}
}

func TestMatchMXPattern(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"mail.example.com", "mail.example.com", true},
		{"mail.example.com", "MAIL.Example.com.", true},
		{"mail.example.com", "mail2.example.com", false},
		{"*.example.com", "mx1.example.com", true},
		{"*.example.com", "mx1.example.com.", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false}, // one label only (RFC 8461 §4.1)
		{"*.example.com", ".example.com", false},
		{"*.example.com", "mx1.example.net", false},
		{"*.example.com", "mx1.notexample.com", false},
	}
	for _, tt := range tests {
		if got := MatchMXPattern(tt.pattern, tt.host); got != tt.want {
			t.Errorf("MatchMXPattern(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

const stsGoodPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mx.example.net\r\nmax_age: 604800\r\n"

// stsHandler serves the policy text at the well-known path and other
// behaviours under other paths.
func stsHandler(policy, contentType string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/mta-sts.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, policy)
	})
	return mux
}

func TestFetchHTTPS(t *testing.T) {
	ca := testworld.NewCA(t)
	now := time.Now()
	good, _ := ca.Leaf(t, []string{"mta-sts.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := ca.Leaf(t, []string{"mta-sts.example.com"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	wrongName, _ := ca.Leaf(t, []string{"www.example.org"}, now.Add(-time.Hour), now.Add(time.Hour))
	selfSigned, _ := (*testworld.CA)(nil).Leaf(t, []string{"mta-sts.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))

	mux := http.NewServeMux()
	mux.Handle("/.well-known/mta-sts.txt", stsHandler(stsGoodPolicy, "text/plain; charset=utf-8"))
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/.well-known/mta-sts.txt", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", MaxPolicySize+1)))
	})
	mux.HandleFunc("/limit", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", MaxPolicySize)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // no answer at all, not an empty 200
		}
	})
	tests := []struct {
		name    string
		cert    tls.Certificate
		path    string
		timeout time.Duration
		want    httpsfetch.Kind
	}{
		{"good", good, "/.well-known/mta-sts.txt", 0, httpsfetch.OK},
		{"expired certificate", expired, "/.well-known/mta-sts.txt", 0, httpsfetch.CertExpired},
		{"wrong name", wrongName, "/.well-known/mta-sts.txt", 0, httpsfetch.CertName},
		{"self-signed", selfSigned, "/.well-known/mta-sts.txt", 0, httpsfetch.CertUntrusted},
		{"redirect not followed", good, "/redirect", 0, httpsfetch.Redirect},
		{"oversized", good, "/big", 0, httpsfetch.TooLarge},
		{"exactly the limit", good, "/limit", 0, httpsfetch.OK},
		{"not found", good, "/nope", 0, httpsfetch.Status},
		{"deadline", good, "/slow", 300 * time.Millisecond, httpsfetch.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testworld.NewHTTPSWorld(t, ca, tt.cert, nil, mux)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			f := httpsfetch.Get(ctx, w.Client, "https://mta-sts.example.com"+tt.path, MaxPolicySize)
			if f.Kind != tt.want {
				t.Fatalf("kind = %s (%s), want %s", f.Kind, f.Error, tt.want)
			}
			switch tt.want {
			case httpsfetch.OK:
				if f.Size == 0 || len(f.Body) != f.Size || f.StatusCode != 200 {
					t.Fatalf("got %+v", f)
				}
			case httpsfetch.Redirect:
				if f.StatusCode != http.StatusFound || f.Location != "/.well-known/mta-sts.txt" || f.Body != nil {
					t.Fatalf("got %+v", f)
				}
			case httpsfetch.TooLarge:
				if f.Body != nil {
					t.Fatal("an oversized body must not be kept")
				}
			}
			if len(f.Evidence()) < 2 || f.Problem() == "" {
				t.Fatalf("no evidence: %v", f.Evidence())
			}
		})
	}
	t.Run("a client that follows redirects is overridden", func(t *testing.T) {
		w := testworld.NewHTTPSWorld(t, ca, good, nil, mux)
		c := *w.Client
		c.CheckRedirect = nil // net/http default: follow up to 10
		f := httpsfetch.Get(context.Background(), &c, "https://mta-sts.example.com/redirect", MaxPolicySize)
		if f.Kind != httpsfetch.Redirect {
			t.Fatalf("kind = %s", f.Kind)
		}
	})
	t.Run("not https", func(t *testing.T) {
		if f := httpsfetch.Get(context.Background(), nil, "http://mta-sts.example.com/", 10); f.Kind != httpsfetch.BadURL {
			t.Fatalf("kind = %s", f.Kind)
		}
	})
}

// TestFetchThroughResolver covers the production dialer: the host name is
// resolved with mxray's resolver, so NXDOMAIN, SERVFAIL and timeouts of the
// policy host are told apart.
func TestFetchThroughResolver(t *testing.T) {
	ca := testworld.NewCA(t)
	now := time.Now()
	good, _ := ca.Leaf(t, []string{"mta-sts.example.com", "mta-sts.fail.example", "mta-sts.slow.example"}, now.Add(-time.Hour), now.Add(time.Hour))
	srv := dnstest.Start(t, `
example.com.         IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300
mta-sts.example.com. IN A 127.0.0.1
mta-sts.fail.example. IN A 127.0.0.1
mta-sts.slow.example. IN A 127.0.0.1
`)
	srv.SetFault("mta-sts.fail.example.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("mta-sts.slow.example.", 0, dnstest.Fault{Drop: true})
	c := testworld.Client(t, srv)
	w := testworld.NewHTTPSWorld(t, ca, good, c, stsHandler(stsGoodPolicy, "text/plain"))

	tests := []struct {
		host string
		want httpsfetch.Kind
	}{
		{"mta-sts.example.com", httpsfetch.OK},
		{"mta-sts.nope.example.com", httpsfetch.DNS},
		{"mta-sts.fail.example", httpsfetch.DNSUnknown},
		{"mta-sts.slow.example", httpsfetch.DNSUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			f := httpsfetch.Get(context.Background(), w.Client, "https://"+tt.host+"/.well-known/mta-sts.txt", MaxPolicySize)
			if f.Kind != tt.want {
				t.Fatalf("kind = %s (%s), want %s", f.Kind, f.Error, tt.want)
			}
		})
	}
	t.Run("special-use addresses are refused", func(t *testing.T) {
		dialed := false
		client := httpsfetch.NewClient(httpsfetch.Options{Resolver: c, RootCAs: ca.Pool, // AllowSpecialUse false, as in production
			Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
				dialed = true
				return nil, fmt.Errorf("must not dial %s", address)
			}})
		for _, u := range []string{"https://mta-sts.example.com/.well-known/mta-sts.txt", "https://10.1.2.3/logo.svg", "https://[::1]/logo.svg"} {
			f := httpsfetch.Get(context.Background(), client, u, 100)
			if f.Kind != httpsfetch.Private || dialed {
				t.Fatalf("%s: kind = %s (%s), dialed %v", u, f.Kind, f.Error, dialed)
			}
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		client := httpsfetch.NewClient(httpsfetch.Options{Resolver: c, RootCAs: ca.Pool, AllowSpecialUse: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}})
		f := httpsfetch.Get(context.Background(), client, "https://mta-sts.example.com/.well-known/mta-sts.txt", 100)
		if f.Kind != httpsfetch.Connect {
			t.Fatalf("kind = %s (%s)", f.Kind, f.Error)
		}
	})
}

const stsZoneBase = `
example.com.          IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300
example.com.          IN MX 10 mx1.example.com.
`

const stsZone = stsZoneBase + `
_mta-sts.example.com. IN TXT "v=STSv1; id=20260101T000000"
mta-sts.example.com.  IN A 127.0.0.1
`

func TestCheckMTASTS(t *testing.T) {
	ca := testworld.NewCA(t)
	now := time.Now()
	good, _ := ca.Leaf(t, []string{"mta-sts.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := ca.Leaf(t, []string{"mta-sts.example.com"}, now.Add(-48*time.Hour), now.Add(-time.Hour))
	wrongName, _ := ca.Leaf(t, []string{"www.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	policy := func(mode string, maxAge int, mx ...string) string {
		s := "version: STSv1\nmode: " + mode + "\n"
		for _, m := range mx {
			s += "mx: " + m + "\n"
		}
		return s + fmt.Sprintf("max_age: %d\n", maxAge)
	}
	type want map[string]report.Severity
	tests := []struct {
		name    string
		zone    string // replaces the _mta-sts TXT line when not empty
		fault   string // name that gets the fault
		rcode   int
		drop    bool
		cert    *tls.Certificate
		handler http.Handler
		mx      []string
		want    want
	}{
		{name: "enforce, all MX match", handler: stsHandler(policy("enforce", 604800, "mx1.example.com", "*.example.net"), "text/plain"),
			mx:   []string{"mx1.example.com", "mx2.example.net"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK}},
		{name: "enforce, one MX misses", handler: stsHandler(policy("enforce", 604800, "mx1.example.com"), "text/plain"),
			mx:   []string{"mx1.example.com", "mx2.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK, "mta-sts.mx-mismatch": report.Failure}},
		{name: "testing, MX misses", handler: stsHandler(policy("testing", 604800, "old.example.com"), "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mode-testing": report.Info, "mta-sts.mx-mismatch": report.Warning}},
		{name: "mode none", handler: stsHandler(policy("none", 86400), "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mode-none": report.Info}},
		{name: "short max_age and wrong content type", handler: stsHandler(policy("enforce", 3600, "mx1.example.com"), "text/html"),
			mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK,
				"mta-sts.max-age-short": report.Info, "mta-sts.policy-content-type": report.Warning}},
		{name: "policy with blank line and unknown field", handler: stsHandler("version: STSv1\n\nmode: enforce\nmx: mx1.example.com\nfoo: bar\nmax_age: 604800\n", "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK, "mta-sts.policy-lint": report.Info}},
		{name: "oversized policy", handler: stsHandler(stsGoodPolicy+strings.Repeat("# padding\n", MaxPolicySize/10), "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
		{name: "redirected policy", handler: http.RedirectHandler("https://www.example.com/mta-sts.txt", http.StatusMovedPermanently),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
		{name: "wrong-name certificate", cert: &wrongName, handler: stsHandler(stsGoodPolicy, "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
		{name: "invalid policy", handler: stsHandler("version: STSv1\nmode: strict\n", "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-invalid": report.Failure}},
		{name: "expired certificate", cert: &expired, handler: stsHandler(stsGoodPolicy, "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
		{name: "policy 404", handler: http.NotFoundHandler(), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
		{name: "no record, no policy", zone: "mta-sts.example.com. IN A 127.0.0.1", handler: http.NotFoundHandler(), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.none": report.Info}},
		{name: "no record, policy served", zone: "mta-sts.example.com. IN A 127.0.0.1", handler: stsHandler(stsGoodPolicy, "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record-missing": report.Warning, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK}},
		{name: "invalid record", zone: "_mta-sts.example.com. IN TXT \"v=STSv1; id=2026-01-01\"\nmta-sts.example.com. IN A 127.0.0.1", handler: stsHandler(stsGoodPolicy, "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record-invalid": report.Failure, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK}},
		{name: "two records", zone: "_mta-sts.example.com. IN TXT \"v=STSv1; id=1\"\n_mta-sts.example.com. IN TXT \"v=STSv1; id=2\"\nmta-sts.example.com. IN A 127.0.0.1",
			handler: stsHandler(stsGoodPolicy, "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record-invalid": report.Failure, "mta-sts.policy": report.OK, "mta-sts.mx-match": report.OK}},
		{name: "TXT SERVFAIL", fault: "_mta-sts.example.com.", rcode: dns.RcodeServerFailure, handler: stsHandler(stsGoodPolicy, "text/plain"),
			want: want{"mta-sts.lookup-failed": report.Unknown}},
		{name: "TXT timeout", fault: "_mta-sts.example.com.", drop: true, handler: stsHandler(stsGoodPolicy, "text/plain"),
			want: want{"mta-sts.lookup-failed": report.Unknown}},
		{name: "policy host SERVFAIL", fault: "mta-sts.example.com.", rcode: dns.RcodeServerFailure, handler: stsHandler(stsGoodPolicy, "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Unknown}},
		{name: "policy host timeout", fault: "mta-sts.example.com.", drop: true, handler: stsHandler(stsGoodPolicy, "text/plain"),
			mx:   []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Unknown}},
		{name: "policy host NXDOMAIN", zone: "_mta-sts.example.com. IN TXT \"v=STSv1; id=1\"\nmta-sts.example.com. IN TXT \"not an address\"",
			handler: stsHandler(stsGoodPolicy, "text/plain"), mx: []string{"mx1.example.com"},
			want: want{"mta-sts.record": report.OK, "mta-sts.policy-fetch-failed": report.Failure}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone := stsZone
			if tt.zone != "" {
				zone = stsZoneBase + tt.zone + "\n"
			}
			srv := dnstest.Start(t, zone)
			if tt.fault != "" {
				srv.SetFault(tt.fault, 0, dnstest.Fault{Rcode: tt.rcode, Drop: tt.drop})
			}
			c := testworld.Client(t, srv)
			cert := good
			if tt.cert != nil {
				cert = *tt.cert
			}
			w := testworld.NewHTTPSWorld(t, ca, cert, c, tt.handler)
			m := Check(context.Background(), c, w.Client, "example.com")
			m.Now = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
			m.MatchMX(tt.mx)
			fs := m.Findings()
			got := reporttest.Severities(fs)
			if reporttest.IDs(got) != reporttest.IDs(tt.want) {
				t.Fatalf("findings:\n got  %s\n want %s", reporttest.IDs(got), reporttest.IDs(tt.want))
			}
			for _, f := range fs {
				if f.Severity == report.Failure || f.Severity == report.Warning {
					if f.Fix == "" || len(f.References) == 0 {
						t.Errorf("%s: a problem without fix or reference", f.ID)
					}
				}
				if f.ID == "mta-sts.mx-mismatch" {
					if len(f.Publish) != 1 || f.Publish[0] != `_mta-sts.example.com. IN TXT "v=STSv1; id=20261126T230000"` {
						t.Errorf("publish = %q", f.Publish)
					}
					if !strings.Contains(f.Fix, "mx: mx2.example.com") && !strings.Contains(f.Fix, "mx: mx1.example.com") {
						t.Errorf("fix does not list the missing host: %s", f.Fix)
					}
				}
				if f.ID == "mta-sts.none" && (len(f.Publish) != 2 || !strings.Contains(f.Fix, "mx: mx1.example.com")) {
					t.Errorf("mta-sts.none publish/fix: %q %q", f.Publish, f.Fix)
				}
			}
		})
	}
}

func FuzzParseMTASTSRecord(f *testing.F) {
	for _, s := range []string{"v=STSv1; id=20160831085700Z;", "v=STSv1;id=a;x=y", "v=STSv1; id=; ", "v=STSv1;;", "v=STSv1; id=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseRecord(s)
		if err != nil {
			if rec != nil {
				t.Fatal("record and error")
			}
			return
		}
		if !isMTASTSID(rec.ID) || !strings.HasPrefix(s, "v=STSv1") {
			t.Fatalf("accepted %q with id %q", s, rec.ID)
		}
		for _, e := range rec.Extensions {
			if !dnscheck.IsExtName(e.Name) || !dnscheck.IsExtValue(e.Value) {
				t.Fatalf("accepted bad extension %+v", e)
			}
		}
	})
}

func FuzzParseMTASTSPolicy(f *testing.F) {
	f.Add(stsGoodPolicy)
	f.Add("version: STSv1\nmode: none\nmax_age: 0")
	f.Add("version: STSv1\nmode: testing\nmx: *.a.b\nmax_age: 9999999999\n")
	f.Add("version: STSv1\n\nmode: enforce\nfoo: bar\nmx: a\nmax_age: 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			return
		}
		if p.Version != "STSv1" || p.MaxAge < 0 || p.MaxAge > MaxAge {
			t.Fatalf("accepted %+v", p)
		}
		if p.Mode != "enforce" && p.Mode != "testing" && p.Mode != "none" {
			t.Fatalf("mode %q", p.Mode)
		}
		if p.Mode != "none" && len(p.MX) == 0 {
			t.Fatal("enforce/testing without mx")
		}
		for _, pat := range p.MX {
			if err := validMXPattern(pat); err != nil {
				t.Fatalf("accepted pattern %q: %v", pat, err)
			}
			// A concrete pattern matches itself; a wildcard matches one label under it.
			host := strings.Replace(pat, "*", "x", 1)
			if p.Match(host) == "" {
				t.Fatalf("pattern %q does not match %q", pat, host)
			}
		}
	})
}

func BenchmarkParseMTASTSPolicy(b *testing.B) {
	for b.Loop() {
		if _, err := ParsePolicy(stsGoodPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckMTASTS is one whole MTA-STS check against loopback: TXT
// lookup, policy host lookup, HTTPS fetch (a fresh client each time, so a
// full TLS handshake), parse and findings.
func BenchmarkCheckMTASTS(b *testing.B) {
	ca := testworld.NewCA(b)
	now := time.Now()
	good, _ := ca.Leaf(b, []string{"mta-sts.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	srv := dnstest.Start(b, stsZone)
	for b.Loop() {
		c := testworld.Client(b, srv) // fresh cache: every lookup goes to the server
		w := testworld.NewHTTPSWorld(b, ca, good, c, stsHandler(stsGoodPolicy, "text/plain"))
		m := Check(context.Background(), c, w.Client, "example.com")
		m.MatchMX([]string{"mx1.example.com"})
		if m.Policy == nil || len(m.Findings()) == 0 {
			b.Fatalf("no policy: %+v", m.Fetch)
		}
	}
}

// TestCheckMTASTSProductionClient runs the check with the client exactly as
// the product builds it: the policy host of the zone resolves to loopback,
// which senders on the internet cannot reach, and which mxray refuses to
// connect to.
func TestCheckMTASTSProductionClient(t *testing.T) {
	srv := dnstest.Start(t, stsZone)
	c := testworld.Client(t, srv)
	m := Check(context.Background(), c, httpsfetch.NewClient(httpsfetch.Options{Resolver: c}), "example.com")
	m.MatchMX([]string{"mx1.example.com"})
	got := reporttest.Severities(m.Findings())
	if want := "mta-sts.policy-fetch-failed=failure mta-sts.record=ok"; reporttest.IDs(got) != want {
		t.Fatalf("got %s, want %s", reporttest.IDs(got), want)
	}
	if m.Fetch.Kind != httpsfetch.Private || !strings.Contains(m.Fetch.Error, "127.0.0.1 (loopback)") {
		t.Fatalf("fetch %+v", m.Fetch)
	}
}
