package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// TestHostileAndOddServers runs the dry run against scripted servers that
// go-smtp cannot imitate. Every scenario must end with the right status
// well within the deadlines: never a hang, never a crash.
func TestHostileAndOddServers(t *testing.T) {
	pki := smtptest.NewPKI(t)
	goodTLS := smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx.example.test"}}))
	std := []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"}
	tests := []struct {
		name   string
		script func(c *smtptest.RawConn)
		status Status
		check  func(t *testing.T, s *Session)
		want   []string // finding ids
		absent []string
	}{
		{name: "multi-line banner",
			script: func(c *smtptest.RawConn) {
				c.Send("220-mx.example.test ESMTP Postfix", "220-Unauthorised use prohibited", "220 mx.example.test")
				c.Session("PIPELINING", "SIZE 0")
			},
			status: StatusOK,
			check: func(t *testing.T, s *Session) {
				if len(s.Greeting.Lines) != 3 || s.BannerHost != "mx.example.test" {
					t.Errorf("greeting %q banner %q", s.Greeting.Lines, s.BannerHost)
				}
			},
			want: []string{"smtp.starttls-missing", "smtp.banner-ehlo-mismatch"}},
		{name: "odd banner without host name",
			script: func(c *smtptest.RawConn) { c.Send("220 ESMTP ready"); c.Session() },
			status: StatusOK, want: []string{"smtp.banner-no-hostname"}},
		{name: "bare 220",
			script: func(c *smtptest.RawConn) { c.Send("220"); c.Session("PIPELINING") },
			status: StatusOK},
		{name: "lowercase extensions and AUTH before TLS",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Session("pipelining", "size 5000000", "auth PLAIN LOGIN", "vrfy")
			},
			status: StatusOK,
			check: func(t *testing.T, s *Session) {
				if !s.Extensions.Has("PIPELINING") || len(s.Extensions.AuthMechanisms()) != 2 {
					t.Errorf("extensions %+v", s.Extensions)
				}
				if n, _ := s.Extensions.Size(); n != 5000000 {
					t.Errorf("size %d", n)
				}
			},
			want: []string{"smtp.auth-before-tls", "smtp.vrfy-enabled", "smtp.size"}},
		{name: "554 at greeting",
			script: func(c *smtptest.RawConn) {
				c.Send("554 5.7.1 mx.example.test Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org")
				c.Expect("QUIT")
				c.Send("221 2.0.0 Bye")
			},
			status: StatusRejectedAtGreeting,
			want:   []string{"smtp.rejected-at-greeting"}, absent: []string{"smtp.starttls-missing"}},
		{name: "421 too many connections",
			script: func(c *smtptest.RawConn) {
				c.Send("421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1")
			},
			status: StatusRateLimited,
			want:   []string{"smtp.rate-limited"}, absent: []string{"smtp.starttls-missing"}},
		{name: "421 after EHLO",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("421 4.3.2 Service shutting down, too many concurrent sessions")
			},
			status: StatusRateLimited, absent: []string{"smtp.starttls-missing"}},
		{name: "421 at STARTTLS",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("250-mx.example.test", "250 STARTTLS")
				c.Expect("STARTTLS")
				c.Send("421 4.3.0 mx.example.test Service shutting down")
			},
			status: StatusClosedByServer,
			want:   []string{"smtp.closed-by-server"}, absent: []string{"smtp.starttls-missing", "smtp.starttls-refused"}},
		{name: "421 at RCPT",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("RCPT")
				c.Send("421 4.7.0 mx.example.test Error: too many errors")
			},
			status: StatusRateLimited,
			check: func(t *testing.T, s *Session) {
				if len(s.Rcpts) != 1 || s.Rcpts[0].Reply.Code != 421 || !s.MailAccepted() {
					t.Errorf("rcpts %+v", s.Rcpts)
				}
			},
			want: []string{"smtp.rate-limited", "smtp.starttls-missing"}},
		{name: "EHLO refused, HELO accepted",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test SMTP")
				c.Expect("EHLO")
				c.Send("502 5.5.1 Command not implemented")
				c.Session()
			},
			status: StatusOK,
			check: func(t *testing.T, s *Session) {
				if !s.HELOFallback {
					t.Error("HELO fallback not recorded")
				}
			},
			want: []string{"smtp.no-ehlo", "smtp.starttls-missing"}},
		{name: "garbage",
			script: func(c *smtptest.RawConn) { c.Send("SSH-2.0-OpenSSH_9.6"); c.Silence() },
			status: StatusProtocolError, want: []string{"smtp.protocol-error"}},
		{name: "mismatched multi-line codes",
			script: func(c *smtptest.RawConn) { c.Send("220-mx.example.test", "250 what"); c.Silence() },
			status: StatusProtocolError},
		{name: "unsolicited reply after the greeting",
			script: func(c *smtptest.RawConn) {
				c.Write("220 mx.example.test ESMTP\r\n250 surprise\r\n")
				c.Silence()
			},
			status: StatusProtocolError},
		{name: "1 MB line",
			script: func(c *smtptest.RawConn) { c.Write("220 " + strings.Repeat("x", 1<<20) + "\r\n"); c.Silence() },
			status: StatusProtocolError},
		{name: "endless continuation lines",
			script: func(c *smtptest.RawConn) {
				for i := 0; i < 100000; i++ {
					if !c.Send("220-mx.example.test still greeting") {
						return
					}
				}
			},
			status: StatusProtocolError},
		{name: "endless EHLO reply",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test")
				c.Expect("EHLO")
				for i := 0; i < 100000; i++ {
					if !c.Send("250-X-PADDING") {
						return
					}
				}
			},
			status: StatusProtocolError},
		{name: "one byte per second",
			script: func(c *smtptest.RawConn) { c.Drip("220 mx.example.test ESMTP\r\n", time.Second) },
			status: StatusGreetingTimeout, want: []string{"smtp.greeting-timeout"}},
		{name: "silence",
			script: func(c *smtptest.RawConn) { c.Silence() },
			status: StatusGreetingTimeout, absent: []string{"smtp.starttls-missing"}},
		{name: "slow but complete reply",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("MAIL")
				time.Sleep(400 * time.Millisecond)
				c.Send("250 2.1.0 Ok")
				c.Session()
			},
			status: StatusOK, want: []string{"smtp.slow-replies"}},
		{name: "silence after MAIL (tarpit)",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("MAIL")
				c.Silence()
			},
			status: StatusTarpitting, want: []string{"smtp.tarpitting"}},
		{name: "closed mid-session",
			script: func(c *smtptest.RawConn) { c.Send("220 mx.example.test ESMTP"); c.Expect("MAIL") },
			status: StatusProtocolError},
		{name: "STARTTLS then garbage instead of a handshake",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("250-mx.example.test", "250 STARTTLS")
				c.Expect("STARTTLS")
				c.Send("220 2.0.0 Ready to start TLS")
				time.Sleep(50 * time.Millisecond) // not in the same segment as the 220
				c.Write("this is not TLS at all\r\n")
				c.Silence()
			},
			status: StatusTLSHandshakeFailed, want: []string{"smtp.tls-handshake-failed", "smtp.plaintext-retry", "smtp.postmaster-accepted"},
			check: func(t *testing.T, s *Session) {
				// The plaintext retry, as an opportunistic sender would.
				if s.PlainRetry == nil || s.PlainRetry.Status != StatusOK || s.PlainRetry.Mode != ModePlain || !s.PlainRetry.MailAccepted() {
					t.Errorf("plain retry: %+v", s.PlainRetry)
				}
			}},
		{name: "STARTTLS reply followed by injected plaintext",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("250-mx.example.test", "250 STARTTLS")
				c.Expect("STARTTLS")
				c.Send("220 2.0.0 Ready to start TLS", "250 injected")
				c.Silence()
			},
			status: StatusProtocolError},
		{name: "STARTTLS refused with 454",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("250-mx.example.test", "250 STARTTLS")
				c.Expect("STARTTLS")
				c.Send("454 4.7.0 TLS not available due to local problem")
				c.Session()
			},
			status: StatusOK, want: []string{"smtp.starttls-refused"}, absent: []string{"smtp.starttls-missing"}},
		{name: "raw STARTTLS with a good certificate",
			script: func(c *smtptest.RawConn) {
				c.Send("220 mx.example.test ESMTP")
				c.Expect("EHLO")
				c.Send("250-mx.example.test", "250-AUTH PLAIN", "250 STARTTLS")
				c.Expect("STARTTLS")
				c.Send("220 2.0.0 Ready")
				if c.StartTLS(goodTLS) {
					c.Session(std...)
				}
			},
			status: StatusOK, want: []string{"smtp.certificate-ok", "smtp.auth-before-tls"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.StartRaw(t, tc.script)
			track(srv.Rec)
			cfg := testConfig()
			cfg.TLS.RootCAs = pki.Pool()
			cfg.GreetingTimeout, cfg.CommandTimeout = 1500*time.Millisecond, 1500*time.Millisecond
			start := time.Now()
			s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("session took %s", el)
			}
			if s.Status != tc.status {
				t.Fatalf("status %s (%s), want %s\n%s", s.Status, s.Detail, tc.status, strings.Join(s.Transcript(), "\n"))
			}
			got := ids(s.Findings(FindingOptions{SlowGreeting: 300 * time.Millisecond}))
			for _, id := range tc.want {
				if _, ok := got[id]; !ok {
					t.Errorf("missing finding %s; got %v", id, got)
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("finding %s present, want absent", id)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			for _, l := range s.Transcript() {
				if len(l) > 600 {
					t.Errorf("transcript line not bounded: %d octets", len(l))
				}
			}
			smtptest.AssertNoMessage(t, srv.Rec)
		})
	}
}

func TestSessionDeadlineAndCancel(t *testing.T) {
	srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		c.Send("220 mx.example.test ESMTP")
		c.Expect("MAIL")
		c.Silence()
	})
	track(srv.Rec)
	t.Run("session deadline", func(t *testing.T) {
		cfg := testConfig()
		cfg.SessionTimeout = 300 * time.Millisecond
		s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
		if s.Status != StatusSessionTimeout {
			t.Errorf("status %s %s", s.Status, s.Detail)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		s := DryRun(ctx, testConfig(), Target{Host: "mx.example.test", Addr: srv.Addr})
		if s.Status != StatusCanceled {
			t.Errorf("status %s %s", s.Status, s.Detail)
		}
	})
}

// TestCommandGuard: the client has no DATA/BDAT method, and the guard refuses DATA and BDAT in any spelling, and
// nothing reaches the wire.
func TestCommandGuard(t *testing.T) {
	srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		c.Send("220 mx.example.test ESMTP")
		for {
			if _, ok := c.ReadCommand(); !ok {
				return
			}
			c.Send("250 OK")
		}
	})
	rec := track(srv.Rec)
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn, Limits{}, time.Second)
	defer c.Close()
	ctx := context.Background()
	if _, err := c.ReadGreeting(ctx, time.Second, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"DATA", "data", " Data", "BDAT 10 LAST", "bdat 0", "DATA\t", "DATAX"} {
		if _, err := c.Command(ctx, catalog.StageDATA, cmd); !errors.Is(err, ErrForbiddenCommand) {
			t.Errorf("%q: err %v, want ErrForbiddenCommand", cmd, err)
		}
	}
	if _, err := c.Command(ctx, catalog.StageUnknown, "NOOP\r\nDATA"); err == nil {
		t.Error("CRLF injection not refused")
	}
	if r, err := c.Command(ctx, catalog.StageUnknown, "NOOP"); err != nil || r.Code != 250 {
		t.Fatalf("NOOP: %v %v", r, err)
	}
	if v := rec.Commands(); len(v) != 1 || v[0] != "NOOP" {
		t.Errorf("server saw %q", v)
	}
}

func TestParseReplyParts(t *testing.T) {
	tests := []struct {
		line     string
		code     int
		more, ok bool
	}{
		{"250-mx", 250, true, true}, {"250 mx", 250, false, true}, {"220", 220, false, true},
		{"2500", 0, false, false}, {"199 x", 0, false, false}, {"260 x", 0, false, false}, {"ab", 0, false, false},
		{"250\tx", 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			c, m, ok := parseLine(tc.line)
			if c != tc.code || m != tc.more || ok != tc.ok {
				t.Errorf("parseLine(%q) = %d %v %v", tc.line, c, m, ok)
			}
		})
	}
	for text, want := range map[string]string{"5.7.1 blocked": "5.7.1", "4.7.1 later": "", "5.1.1": "5.1.1", "5.7.1blocked": "", "blocked": ""} {
		if got := parseEnhanced(550, text); got != want {
			t.Errorf("parseEnhanced(550, %q) = %q, want %q", text, got, want)
		}
	}
	_ = tls.VersionTLS12
}

func TestSlowGreetingAndImplicitTLSFailure(t *testing.T) {
	t.Run("slow greeting", func(t *testing.T) {
		srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
			time.Sleep(300 * time.Millisecond)
			c.Send("220 mx.example.test ESMTP")
			c.Session()
		})
		track(srv.Rec)
		s := DryRun(context.Background(), testConfig(), Target{Host: "mx.example.test", Addr: srv.Addr})
		got := ids(s.Findings(FindingOptions{SlowGreeting: 100 * time.Millisecond}))
		if s.Status != StatusOK || got["smtp.slow-greeting"] != report.Info {
			t.Errorf("status %s findings %v", s.Status, got)
		}
		// The server's sleep starts at accept, a little before Dial returns.
		if time.Duration(s.Timings.Greeting) < 150*time.Millisecond {
			t.Errorf("greeting timing %s", time.Duration(s.Timings.Greeting))
		}
	})
	t.Run("implicit TLS to a plaintext server", func(t *testing.T) {
		srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
			c.Send("220 mx.example.test ESMTP")
			c.Silence()
		})
		track(srv.Rec)
		cfg := testConfig()
		cfg.Mode = ModeImplicitTLS
		s := DryRun(context.Background(), cfg, Target{Host: "mx.example.test", Addr: srv.Addr})
		if s.Status != StatusTLSHandshakeFailed || s.TLS == nil || s.TLS.HandshakeError == "" {
			t.Fatalf("status %s %s", s.Status, s.Detail)
		}
		if got := ids(s.Findings(FindingOptions{Submission: true})); got["smtp.tls-handshake-failed"] != report.Failure {
			t.Errorf("findings %v", got)
		}
	})
}
