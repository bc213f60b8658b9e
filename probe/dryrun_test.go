package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/emersion/go-smtp"

	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// recorders collects every fake of the test run, for the safety invariant.
var (
	recMu     sync.Mutex
	recorders []*smtptest.Recorder
)

func track(r *smtptest.Recorder) *smtptest.Recorder {
	recMu.Lock()
	recorders = append(recorders, r)
	recMu.Unlock()
	return r
}

// TestMain checks, after every test ran, that no fake of any scenario ever
// received DATA, BDAT or a message.
func TestMain(m *testing.M) {
	netguard.LoopbackOnly()
	code := m.Run()
	recMu.Lock()
	defer recMu.Unlock()
	for _, r := range recorders {
		if what, ok := r.Message(); ok {
			println("SAFETY INVARIANT BROKEN: a fake received", what)
			code = 1
		}
	}
	os.Exit(code)
}

func testConfig() Config {
	return Config{HELO: "probe.mxray.test", Domain: "example.test",
		ConnectTimeout: 2 * time.Second, GreetingTimeout: 2 * time.Second,
		CommandTimeout: 2 * time.Second, SessionTimeout: 10 * time.Second}
}

func ids(fs []report.Finding) map[string]report.Severity {
	m := map[string]report.Severity{}
	for _, f := range fs {
		m[f.ID] = f.Severity
	}
	return m
}

func TestDryRunGoSMTP(t *testing.T) {
	pki := smtptest.NewPKI(t)
	good := smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx.example.test"}}))
	tests := []struct {
		name       string
		opt        smtptest.Options
		cfg        func(*Config)
		status     Status
		want       map[string]report.Severity // finding id → severity
		absent     []string
		wantVerbs  string
		checkRcpts func(t *testing.T, s *Session)
	}{
		{name: "healthy with STARTTLS",
			opt:       smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, TLS: good, MaxMessageBytes: 50 << 20},
			status:    StatusOK,
			want:      map[string]report.Severity{"smtp.certificate-ok": report.OK, "smtp.postmaster-accepted": report.OK, "smtp.unknown-recipient-rejected": report.OK, "smtp.relay-denied": report.OK, "smtp.size": report.Info, "smtp.vrfy-noncommittal": report.OK},
			absent:    []string{"smtp.starttls-missing", "smtp.open-relay", "smtp.catch-all"},
			wantVerbs: "EHLO STARTTLS EHLO MAIL RCPT RCPT RCPT VRFY QUIT"},
		{name: "no STARTTLS",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}},
			status: StatusOK,
			want:   map[string]report.Severity{"smtp.starttls-missing": report.Warning}},
		{name: "catch-all",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, CatchAll: true},
			status: StatusOK,
			want:   map[string]report.Severity{"smtp.catch-all": report.Info}},
		{name: "open relay",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, OpenRelay: true},
			status: StatusOK,
			want:   map[string]report.Severity{"smtp.open-relay": report.Failure}},
		{name: "postmaster rejected",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, RejectPostmaster: true},
			status: StatusOK,
			want:   map[string]report.Severity{"smtp.postmaster-rejected": report.Failure}},
		{name: "greylisting",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, Greylist: true},
			status: StatusGreylisted,
			want:   map[string]report.Severity{"smtp.greylisting": report.Info},
			absent: []string{"smtp.postmaster-rejected", "smtp.catch-all", "smtp.unknown-recipient-rejected"}},
		{name: "null sender refused, probe sender accepted",
			opt:       smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, RejectNullSender: true},
			status:    StatusOK,
			want:      map[string]report.Severity{"smtp.postmaster-accepted": report.OK},
			absent:    []string{"smtp.mail-rejected"},
			wantVerbs: "EHLO MAIL RSET MAIL RCPT RCPT RCPT VRFY QUIT"},
		{name: "every sender refused",
			opt:    smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, RejectMail: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender rejected"}},
			status: StatusOK,
			want:   map[string]report.Severity{"smtp.mail-rejected": report.Warning},
			absent: []string{"smtp.postmaster-accepted"}},
		{name: "user recipients",
			opt: smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, Users: []string{"alice"}},
			cfg: func(c *Config) {
				c.Recipients = []string{"alice@example.test", "bob@example.test"}
				c.NoCatchAll, c.NoRelayTest = true, true
			},
			status:    StatusOK,
			wantVerbs: "EHLO MAIL RCPT RCPT RCPT VRFY QUIT",
			checkRcpts: func(t *testing.T, s *Session) {
				if len(s.Rcpts) != 3 || !s.Rcpts[1].Accepted() || s.Rcpts[2].Accepted() || s.Rcpts[2].Reply.Code != 550 {
					t.Errorf("rcpts: %+v", s.Rcpts)
				}
				if e := s.Rcpts[2].Reply.Explain; e.Code != 550 || e.Stage != catalog.StageRCPT {
					t.Errorf("explanation not attached: %+v", e)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opt)
			track(srv.Rec)
			cfg := testConfig()
			cfg.TLS.RootCAs = pki.Pool()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
			if s.Status != tc.status {
				t.Fatalf("status %s (%s), want %s\n%s", s.Status, s.Detail, tc.status, strings.Join(s.Transcript(), "\n"))
			}
			got := ids(s.Findings(FindingOptions{PTR: []string{"mx.example.test"}, PTRStatus: "ok"}))
			for id, sev := range tc.want {
				if g, ok := got[id]; !ok || g != sev {
					t.Errorf("finding %s: got %v (present %v), want %v; all: %v", id, g, ok, sev, got)
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("finding %s present, want absent", id)
				}
			}
			if tc.wantVerbs != "" {
				if v := strings.Join(srv.Rec.Verbs(), " "); v != tc.wantVerbs {
					t.Errorf("server saw %q, want %q", v, tc.wantVerbs)
				}
			}
			if tc.checkRcpts != nil {
				tc.checkRcpts(t, s)
			}
			smtptest.AssertNoMessage(t, srv.Rec)
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	pki := smtptest.NewPKI(t)
	cfgTLS := smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"smtp.example.test"}}))
	srv := smtptest.Start(t, smtptest.Options{Domain: "smtp.example.test", TLS: cfgTLS, Implicit: true})
	track(srv.Rec)
	cfg := testConfig()
	cfg.Mode, cfg.NoMail = ModeImplicitTLS, true
	cfg.TLS.RootCAs = pki.Pool()
	s := DryRun(context.Background(), cfg, Target{Host: "smtp.example.test", Addr: srv.Addr})
	if s.Status != StatusOK || s.TLS == nil || !s.TLS.Verified {
		t.Fatalf("status %s %s tls %+v", s.Status, s.Detail, s.TLS)
	}
	if v := strings.Join(srv.Rec.Verbs(), " "); v != "EHLO QUIT" {
		t.Errorf("verbs %q", v)
	}
}

func TestCertificateProblems(t *testing.T) {
	pki := smtptest.NewPKI(t)
	now := time.Now()
	tests := []struct {
		name string
		cert smtptest.CertOptions
		id   string
	}{
		{"expired", smtptest.CertOptions{DNSNames: []string{"mx.example.test"}, NotBefore: now.Add(-100 * 24 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, "smtp.certificate-expired"},
		{"wrong name", smtptest.CertOptions{DNSNames: []string{"other.example.net"}}, "smtp.certificate-wrong-name"},
		{"self-signed", smtptest.CertOptions{DNSNames: []string{"mx.example.test"}, SelfSigned: true}, "smtp.certificate-self-signed"},
		{"chain incomplete", smtptest.CertOptions{DNSNames: []string{"mx.example.test"}, OmitIntermediate: true}, "smtp.certificate-chain-incomplete"},
		{"expiring soon", smtptest.CertOptions{DNSNames: []string{"mx.example.test"}, NotAfter: now.Add(5 * 24 * time.Hour)}, "smtp.certificate-expiring"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"},
				TLS: smtptest.ServerConfig(pki.Cert(tc.cert))})
			track(srv.Rec)
			cfg := testConfig()
			cfg.TLS.RootCAs = pki.Pool()
			s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
			if s.Status != StatusOK || s.TLS == nil || s.TLS.Handshake != "ok" {
				t.Fatalf("status %s %s", s.Status, s.Detail)
			}
			// Info on port 25 (opportunistic TLS); the check grades it by the
			// domain's MTA-STS policy, and submission makes it a failure.
			got := ids(s.Findings(FindingOptions{}))
			if sev, ok := got[tc.id]; !ok || sev != report.Info {
				t.Errorf("want %s info on port 25, got %v", tc.id, got)
			}
			want := report.Failure
			if tc.id == "smtp.certificate-expiring" {
				want = report.Warning
			}
			if sev := ids(s.Findings(FindingOptions{Submission: true}))[tc.id]; sev != want {
				t.Errorf("submission: %s is %v, want %v", tc.id, sev, want)
			}
			if _, ok := got["smtp.certificate-ok"]; ok && tc.id != "smtp.certificate-expiring" {
				t.Errorf("certificate-ok reported for a bad certificate")
			}
			// The mail transaction still ran over TLS.
			if !s.MailAccepted() || len(s.ExtensionsTLS) == 0 {
				t.Errorf("transaction after TLS missing: %v", s.Transcript())
			}
		})
	}
}

func TestTLSOldVersion(t *testing.T) {
	pki := smtptest.NewPKI(t)
	tc := smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx.example.test"}}))
	tc.MaxVersion = tls.VersionTLS11
	srv := smtptest.Start(t, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, TLS: tc})
	track(srv.Rec)
	cfg := testConfig()
	cfg.TLS.RootCAs = pki.Pool()
	s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
	if s.TLS == nil {
		t.Fatalf("no TLS: %s %s", s.Status, s.Detail)
	}
	got := ids(s.Findings(FindingOptions{}))
	if s.TLS.Handshake != "ok" || s.TLS.Version != "TLS 1.1" {
		t.Fatalf("handshake %s %s %s: the probe must offer TLS 1.0/1.1 to observe old servers", s.TLS.Handshake, s.TLS.Version, s.TLS.HandshakeError)
	}
	if got["smtp.tls-old-version"] != report.Warning {
		t.Errorf("TLS 1.1 not reported: %v", got)
	}
}

func TestConnectStatuses(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		s := DryRun(context.Background(), testConfig(), Target{Host: "mx.example.test", Addr: smtptest.ClosedAddr(t)})
		if s.Status != StatusConnectionRefused {
			t.Fatalf("status %s %s", s.Status, s.Detail)
		}
		got := ids(s.Findings(FindingOptions{}))
		// A reset is the host's answer: a failure of that host.
		if got["smtp.connection-refused"] != report.Failure || len(got) != 1 {
			t.Errorf("findings %v", got)
		}
		if _, ok := got["smtp.starttls-missing"]; ok {
			t.Error("a refused connection must never be reported as no STARTTLS")
		}
	})
	t.Run("network unreachable", func(t *testing.T) {
		cfg := testConfig()
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
		}
		s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: "[2001:db8::1]:25"})
		if s.Status != StatusNetworkUnreachable || !s.Status.ConnectFailed() {
			t.Fatalf("status %s %s", s.Status, s.Detail)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		cfg := testConfig()
		cfg.ConnectTimeout = 100 * time.Millisecond
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: "192.0.2.1:25"})
		if s.Status != StatusConnectionTimeout {
			t.Fatalf("status %s %s", s.Status, s.Detail)
		}
		// Silence is no answer: the session alone cannot say whose fault it is.
		if got := ids(s.Findings(FindingOptions{})); got["smtp.connect-failed"] != report.Unknown || len(got) != 1 {
			t.Errorf("findings %v", got)
		}
	})
}

// TestAuthWithGivenCredentials: credentials are used only when given, only
// over TLS, and never appear in the transcript.
func TestAuthWithGivenCredentials(t *testing.T) {
	pki := smtptest.NewPKI(t)
	tlsCfg := smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"smtp.example.test"}}))
	const secret = "s3cret-pa55"
	tests := []struct {
		name  string
		opt   smtptest.Options
		pass  string
		id    string
		sev   report.Severity
		tried bool
	}{
		{"accepted", smtptest.Options{TLS: tlsCfg, AuthMechs: []string{"PLAIN"}, AuthUsers: map[string]string{"alice": secret}}, secret, "smtp.auth-ok", report.OK, true},
		{"refused", smtptest.Options{TLS: tlsCfg, AuthMechs: []string{"PLAIN"}, AuthUsers: map[string]string{"alice": "other"}}, secret, "smtp.auth-failed", report.Failure, true},
		{"no TLS", smtptest.Options{AuthMechs: []string{"PLAIN"}, InsecureAuth: true, AuthUsers: map[string]string{"alice": secret}}, secret, "smtp.auth-not-tried", report.Unknown, false},
		{"no PLAIN", smtptest.Options{TLS: tlsCfg, AuthMechs: []string{"LOGIN"}}, secret, "smtp.auth-not-tried", report.Unknown, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Domain = "smtp.example.test"
			srv := smtptest.Start(t, tc.opt)
			track(srv.Rec)
			cfg := testConfig()
			cfg.NoMail = true
			cfg.TLS.RootCAs = pki.Pool()
			cfg.Auth = &Credentials{Username: "alice", Password: tc.pass}
			s := DryRun(context.Background(), cfg, Target{Host: "smtp.example.test", Addr: srv.Addr})
			if s.Status != StatusOK || s.Auth == nil {
				t.Fatalf("status %s %s auth %+v", s.Status, s.Detail, s.Auth)
			}
			got := ids(s.Findings(FindingOptions{Submission: true}))
			if got[tc.id] != tc.sev {
				t.Errorf("want %s %v; got %v", tc.id, tc.sev, got)
			}
			tried := false
			for _, v := range srv.Rec.Verbs() {
				if v == "AUTH" {
					tried = true
				}
			}
			if tried != tc.tried {
				t.Errorf("AUTH sent: %v, want %v (%q)", tried, tc.tried, srv.Rec.Commands())
			}
			js, _ := json.Marshal(s)
			for _, l := range append(s.Transcript(), string(js)) {
				if strings.Contains(l, secret) || strings.Contains(l, "AGFsaWNl") {
					t.Fatalf("credentials leaked into the transcript: %s", l)
				}
			}
		})
	}
}

// TestLocalAddr: Config.LocalAddr (mxray smtp --source) opens the session
// from that address — the server sees it — through the default dial, and
// CheckLocalAddr refuses an address that is not this machine's.
func TestLocalAddr(t *testing.T) {
	seen := make(chan string, 1)
	srv := smtptest.StartRawAt(t, "127.0.0.2", func(c *smtptest.RawConn) {
		seen <- c.RemoteAddr()
		c.Send("220 mx.test ESMTP")
		c.Session()
	})
	src := netip.MustParseAddr("127.0.0.4")
	if err := CheckLocalAddr(src); err != nil {
		t.Fatal(err)
	}
	s := DryRun(context.Background(), Config{LocalAddr: src, HELO: "probe.mxray.test", Domain: "example.test", NoCatchAll: true, NoRelayTest: true},
		Target{Host: "mx.test", Addr: srv.Addr})
	if host, _, _ := net.SplitHostPort(<-seen); host != "127.0.0.4" {
		t.Errorf("the server saw %s", host)
	}
	if host, _, _ := net.SplitHostPort(s.LocalAddr); host != "127.0.0.4" || s.Status != StatusOK {
		t.Errorf("session from %s, status %s (%s)", s.LocalAddr, s.Status, s.Detail)
	}
	for _, bad := range []string{"192.0.2.7", "0.0.0.0", "224.0.0.1"} {
		err := CheckLocalAddr(netip.MustParseAddr(bad))
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("CheckLocalAddr(%s) = %v", bad, err)
		}
	}
}
