package check

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

func smtpTestOptions(pki *smtptest.PKI) SMTPOptions {
	return SMTPOptions{HELO: "probe.mxray.test", AllowSpecialUse: true, TLS: probe.TLSOptions{RootCAs: pki.Pool()},
		ConnectTimeout: 300 * time.Millisecond, GreetingTimeout: 2 * time.Second, CommandTimeout: 2 * time.Second, SessionTimeout: 10 * time.Second}
}

func severities(rep *report.Report, id string) []report.Severity {
	var out []report.Severity
	for _, f := range rep.Find(id) {
		out = append(out, f.Severity)
	}
	return out
}

func TestSMTPPart(t *testing.T) {
	pki := smtptest.NewPKI(t)
	mx1 := smtptest.Start(t, smtptest.Options{Domain: "mx1.example.test", LocalDomains: []string{"example.test"},
		TLS: smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx1.example.test"}}))})
	sub := smtptest.Start(t, smtptest.Options{Domain: "smtp.example.test", AuthMechs: []string{"PLAIN", "LOGIN"},
		TLS: smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"smtp.example.test"}}))})
	defer smtptest.AssertNoMessage(t, mx1.Rec, sub.Rec)
	closed := smtptest.ClosedAddr(t)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 10 mx1.example.test.",
		"example.test. 300 IN MX 20 mx2.example.test.",
		"mx1.example.test. 300 IN A 192.0.2.10",
		"mx2.example.test. 300 IN A 192.0.2.11",
		"_submission._tcp.example.test. 300 IN SRV 0 1 587 smtp.example.test.",
		"_submissions._tcp.example.test. 300 IN SRV 0 0 0 .",
		"smtp.example.test. 300 IN A 192.0.2.20",
	)
	cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: smtpTestOptions(pki),
		Dial: smtptest.Router(map[string]string{"192.0.2.10:25": mx1.Addr, "192.0.2.11:25": closed, "192.0.2.20:587": sub.Addr})}
	rep, err := Domain(context.Background(), cfg, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]report.Severity{
		"smtp.postmaster-accepted":        report.OK,
		"smtp.certificate-ok":             report.OK,
		"smtp.relay-denied":               report.OK,
		"smtp.unknown-recipient-rejected": report.OK,
		"smtp.connection-refused":         report.Failure, // mx2 refused: the host's own answer
		"submission.certificate-ok":       report.OK,
	} {
		got := severities(rep, id)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %v, want [%v]", id, got, want)
		}
	}
	if len(rep.Find("smtp.port25-blocked")) != 0 {
		t.Error("port25-blocked reported although a host answered")
	}
	if len(rep.Find("submission.auth-before-tls")) != 0 {
		t.Error("unexpected auth-before-tls")
	}
	// The mail transaction is not tried on submission, nor any credential.
	for _, v := range sub.Rec.Verbs() {
		if v == "MAIL" || v == "RCPT" || v == "AUTH" || v == "(AUTH" {
			t.Errorf("submission session sent %s", v)
		}
	}
}

func TestSMTPPartPort25Blocked(t *testing.T) {
	pki := smtptest.NewPKI(t)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 10 mx1.example.test.",
		"mx1.example.test. 300 IN A 192.0.2.10",
		"mx1.example.test. 300 IN AAAA 2001:db8::10",
	)
	blackhole := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done() // a filtered port: no answer until the deadline
		return nil, ctx.Err()
	}
	cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: smtpTestOptions(pki), Dial: blackhole}
	start := time.Now()
	rep, err := Domain(context.Background(), cfg, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := severities(rep, "smtp.port25-blocked"); len(got) != 1 || got[0] != report.Unknown {
		t.Fatalf("port25-blocked: %v; findings %+v", got, rep.Findings())
	}
	for _, f := range rep.Findings() {
		if strings.HasPrefix(f.ID, "smtp.") && f.Severity == report.Failure {
			t.Errorf("a blocked port must not fail the domain: %+v", f)
		}
		if f.ID == "smtp.starttls-missing" {
			t.Error("a timeout must never be reported as no STARTTLS")
		}
	}
	// Two addresses of one host, one after the other, 300 ms each.
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %s", el)
	}
}

// TestSMTPOneConnectionPerIP: two MX hosts sharing one address are never
// probed at the same time. Connections are counted on the client side, from
// the dial to the Close: that is what reaches the server's IP.
func TestSMTPOneConnectionPerIP(t *testing.T) {
	pki := smtptest.NewPKI(t)
	srv := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		time.Sleep(50 * time.Millisecond) // make overlapping sessions likely if the lock were missing
		c.Send("220 mx.example.test ESMTP")
		c.Session()
	})
	defer smtptest.AssertNoMessage(t, srv.Rec)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 10 a.example.test.",
		"example.test. 300 IN MX 20 b.example.test.",
		"a.example.test. 300 IN A 192.0.2.10",
		"b.example.test. 300 IN A 192.0.2.10",
	)
	var count connCounter
	cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: smtpTestOptions(pki),
		Dial: count.wrap(smtptest.Router(map[string]string{"192.0.2.10:25": srv.Addr}))}
	if _, err := Domain(context.Background(), cfg, "example.test"); err != nil {
		t.Fatal(err)
	}
	dials, maxActive := count.stats()
	if dials < 2 {
		t.Fatalf("%d connection(s); want one per MX host", dials)
	}
	if maxActive != 1 {
		t.Errorf("max concurrent connections to one IP: %d", maxActive)
	}
}

// connCounter counts connections on the client side, from the dial to the
// Close: that is what reaches the server's IP.
type connCounter struct {
	mu                       sync.Mutex
	active, maxActive, dials int
}

// wrap counts the connections dial opens.
func (cc *connCounter) wrap(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc.mu.Lock()
		cc.active++
		cc.dials++
		cc.maxActive = max(cc.maxActive, cc.active)
		cc.mu.Unlock()
		return &countedConn{Conn: c, done: func() { cc.mu.Lock(); cc.active--; cc.mu.Unlock() }}, nil
	}
}

// stats are the connections opened and the most open at once.
func (cc *connCounter) stats() (dials, maxActive int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.dials, cc.maxActive
}

// countedConn calls done once, on the first Close.
type countedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

func TestDANEFindings(t *testing.T) {
	pki := smtptest.NewPKI(t)
	cert := pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx.example.test"}})
	srv := smtptest.Start(t, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}, TLS: smtptest.ServerConfig(cert)})
	defer smtptest.AssertNoMessage(t, srv.Rec)
	s := probe.DryRun(context.Background(), probe.Config{HELO: "probe.mxray.test", NoMail: true, TLS: probe.TLSOptions{RootCAs: pki.Pool()}},
		probe.Target{Host: "mx.example.test", Addr: srv.Addr})
	if s.TLS == nil || s.TLS.Handshake != "ok" {
		t.Fatalf("no TLS: %s %s", s.Status, s.Detail)
	}
	spki := func(c *x509.Certificate) string {
		h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		return hex.EncodeToString(h[:])
	}
	other := pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx.example.test"}})
	tests := []struct {
		name string
		data string
		id   string
		sev  report.Severity
	}{
		{"match", spki(cert.Leaf), "smtp.dane-match", report.OK},
		{"mismatch", spki(other.Leaf), "smtp.dane-mismatch", report.Failure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := dane.TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Data: tc.data, Raw: "_25._tcp.mx.example.test. IN TLSA 3 1 1 " + tc.data}
			d := &dane.Result{Hosts: []dane.Host{{Host: "mx.example.test", Port: 25, Records: []dane.TLSARecord{rec}, Authenticated: true, Status: dane.StatusOK}}}
			fs := daneFindings(d, s)
			if len(fs) != 1 || fs[0].ID != tc.id || fs[0].Severity != tc.sev {
				t.Fatalf("findings %+v", fs)
			}
			if tc.id == "smtp.dane-mismatch" && len(fs[0].Publish) != 1 {
				t.Errorf("no record to publish: %+v", fs[0])
			}
		})
	}
	// Not authenticated: senders ignore the records; nothing to judge here.
	d := &dane.Result{Hosts: []dane.Host{{Host: "mx.example.test", Port: 25, Status: dane.StatusInsecure}}}
	if fs := daneFindings(d, s); len(fs) != 0 {
		t.Errorf("insecure TLSA judged: %+v", fs)
	}
}

// TestSMTPPartDANE: the smtp part matches the certificate it sees against
// the TLSA records the dane part found.
func TestSMTPPartDANE(t *testing.T) {
	pki := smtptest.NewPKI(t)
	cert := pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx1.example.test"}})
	mx1 := smtptest.Start(t, smtptest.Options{Domain: "mx1.example.test", LocalDomains: []string{"example.test"}, TLS: smtptest.ServerConfig(cert)})
	defer smtptest.AssertNoMessage(t, mx1.Rec)
	for _, tc := range []struct {
		name string
		leaf *x509.Certificate
		id   string
	}{
		{"match", cert.Leaf, "smtp.dane-match"},
		{"mismatch", pki.Cert(smtptest.CertOptions{DNSNames: []string{"mx1.example.test"}}).Leaf, "smtp.dane-mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sha256.Sum256(tc.leaf.RawSubjectPublicKeyInfo)
			res := dnscheck.NewStaticResolver(
				"example.test. 300 IN MX 10 mx1.example.test.",
				"mx1.example.test. 300 IN A 192.0.2.10",
				"_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 "+hex.EncodeToString(h[:]),
			)
			res.AD = true
			cfg := Config{Resolver: res, Only: []string{"smtp", "dane"}, SMTP: smtpTestOptions(pki),
				Dial: smtptest.Router(map[string]string{"192.0.2.10:25": mx1.Addr})}
			rep, err := Domain(context.Background(), cfg, "example.test")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Find(tc.id)) != 1 {
				var got []string
				for _, f := range rep.Findings() {
					got = append(got, f.ID)
				}
				t.Errorf("want %s; got %v", tc.id, got)
			}
		})
	}
}

// TestSMTPPartIPv6Unreachable: an IPv6 address this network cannot route
// to is unknown, not the host's fault, when IPv4 works.
func TestSMTPPartIPv6Unreachable(t *testing.T) {
	pki := smtptest.NewPKI(t)
	mx1 := smtptest.Start(t, smtptest.Options{Domain: "mx1.example.test", LocalDomains: []string{"example.test"}})
	defer smtptest.AssertNoMessage(t, mx1.Rec)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 10 mx1.example.test.",
		"mx1.example.test. 300 IN A 192.0.2.10",
		"mx1.example.test. 300 IN AAAA 2001:db8::10",
	)
	route := smtptest.Router(map[string]string{"192.0.2.10:25": mx1.Addr})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "[") {
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
		}
		return route(ctx, network, addr)
	}
	cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: smtpTestOptions(pki), Dial: dial}
	rep, err := Domain(context.Background(), cfg, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := severities(rep, "smtp.connect-failed"); len(got) != 1 || got[0] != report.Unknown {
		t.Errorf("connect-failed: %v", got)
	}
	if len(rep.Find("smtp.postmaster-accepted")) != 1 || len(rep.Find("smtp.port25-blocked")) != 0 {
		t.Errorf("findings %+v", rep.Findings())
	}
}

// TestSMTPReachability tells a refusal (the host's answer) from silence
// (what egress filtering looks like) when the MX hosts cannot be reached.
// Refusals are real TCP resets from closed loopback ports; silence is a
// dialer that hangs until the connect deadline, as dropped SYNs do.
func TestSMTPReachability(t *testing.T) {
	pki := smtptest.NewPKI(t)
	mx := smtptest.Start(t, smtptest.Options{Domain: "mx1.example.test", LocalDomains: []string{"example.test"}})
	defer smtptest.AssertNoMessage(t, mx.Rec)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 10 mx1.example.test.",
		"example.test. 300 IN MX 20 mx2.example.test.",
		"mx1.example.test. 300 IN A 192.0.2.10",
		"mx2.example.test. 300 IN A 192.0.2.11",
	)
	const mx1, mx2 = "192.0.2.10:25", "192.0.2.11:25"
	refused := func(t *testing.T) string { return smtptest.ClosedAddr(t) }
	silent := func(*testing.T) string { return "" } // dropped: the blackhole dialer
	answers := func(*testing.T) string { return mx.Addr }
	tarpit := func(t *testing.T) string { return smtptest.SilentAddr(t) }
	tests := []struct {
		name     string
		mx1, mx2 func(*testing.T) string
		want     map[string][]report.Severity // finding id → severities, in host order
		worst    report.Severity              // of the smtp section (the mx part judges the documentation addresses on its own)
	}{
		{"every host refuses", refused, refused, map[string][]report.Severity{
			"smtp.connection-refused": {report.Failure, report.Failure},
			"smtp.all-refused":        {report.Failure},
			"smtp.port25-blocked":     nil,
		}, report.Failure},
		{"every host silent", silent, silent, map[string][]report.Severity{
			"smtp.connect-failed":     {report.Unknown, report.Unknown},
			"smtp.port25-blocked":     {report.Unknown},
			"smtp.all-refused":        nil,
			"smtp.connection-refused": nil,
		}, report.Unknown},
		{"one refuses, one silent", refused, silent, map[string][]report.Severity{
			"smtp.connection-refused": {report.Failure},
			"smtp.connect-failed":     {report.Unknown},
			"smtp.port25-blocked":     nil,
			"smtp.all-refused":        nil,
		}, report.Failure},
		{"one answers, one silent", answers, silent, map[string][]report.Severity{
			"smtp.connect-failed": {report.Warning}, // this network reaches port 25: the host is down or filtered
			"smtp.port25-blocked": nil,
		}, report.Warning},
		{"one answers, one refuses", answers, refused, map[string][]report.Severity{
			"smtp.connection-refused": {report.Failure},
			"smtp.all-refused":        nil,
		}, report.Failure},
		// A listener that never accepts completes the TCP handshake: port 25
		// is open on this path, the hosts just say nothing.
		{"every host accepts and stays silent", tarpit, tarpit, map[string][]report.Severity{
			"smtp.greeting-timeout": {report.Unknown, report.Unknown},
			"smtp.port25-blocked":   nil,
		}, report.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := map[string]string{}
			for addr, to := range map[string]string{mx1: tt.mx1(t), mx2: tt.mx2(t)} {
				if to != "" {
					routes[addr] = to
				}
			}
			route := smtptest.Router(routes)
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				if _, ok := routes[addr]; !ok {
					return smtptest.Blackhole(ctx, network, addr)
				}
				return route(ctx, network, addr)
			}
			opt := smtpTestOptions(pki)
			opt.GreetingTimeout = 300 * time.Millisecond
			cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: opt, Dial: dial}
			rep, err := Domain(context.Background(), cfg, "example.test")
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.want {
				if got := severities(rep, id); !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v", id, got, want)
				}
			}
			var smtp []report.Severity
			for _, f := range rep.Findings() {
				if strings.HasPrefix(f.ID, "smtp.") {
					smtp = append(smtp, f.Severity)
				}
			}
			if w := report.Worst(smtp...); w != tt.worst {
				t.Errorf("worst smtp finding %s, want %s", w, tt.worst)
			}
		})
	}
}

// TestSubmissionGuessedPortRefused: --submission HOST tries 587 and 465; the
// one the host does not use refuses, and that is no fault. A port that an
// SRV record advertises and that refuses is a failure.
func TestSubmissionGuessedPortRefused(t *testing.T) {
	pki := smtptest.NewPKI(t)
	sub := smtptest.Start(t, smtptest.Options{Domain: "smtp.example.test",
		TLS: smtptest.ServerConfig(pki.Cert(smtptest.CertOptions{DNSNames: []string{"smtp.example.test"}}))})
	defer smtptest.AssertNoMessage(t, sub.Rec)
	res := dnscheck.NewStaticResolver(
		"example.test. 300 IN MX 0 .",
		"_submissions._tcp.example.test. 300 IN SRV 0 1 465 smtps.example.test.",
		"smtp.example.test. 300 IN A 192.0.2.20",
		"smtps.example.test. 300 IN A 192.0.2.21",
	)
	cfg := Config{Resolver: res, Only: []string{"smtp"}, SMTP: smtpTestOptions(pki),
		Dial: smtptest.Router(map[string]string{"192.0.2.20:587": sub.Addr, "192.0.2.20:465": smtptest.ClosedAddr(t), "192.0.2.21:465": smtptest.ClosedAddr(t)})}
	cfg.SMTP.Submission = []string{"smtp.example.test"}
	rep, err := Domain(context.Background(), cfg, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Severity{}
	for _, f := range rep.Find("submission.connection-refused") {
		got[f.Subject] = f.Severity
	}
	want := map[string]report.Severity{
		"smtps.example.test (192.0.2.21:465)": report.Failure, // advertised by SRV
		"smtp.example.test (192.0.2.20:465)":  report.Info,    // guessed
	}
	if !maps.Equal(got, want) {
		t.Errorf("submission.connection-refused: %v, want %v", got, want)
	}
}

// TestSubmissionSRVLookupFailed: when the SRV lookups fail, nothing is known
// about submission: the report says the lookups failed, and does not claim
// that no service is advertised (nor ask to publish one).
func TestSubmissionSRVLookupFailed(t *testing.T) {
	res := dnscheck.NewStaticResolver("example.test. 300 IN MX 0 .")
	res.Fail("_submissions._tcp.example.test", dns.TypeSRV, dnscheck.StatusServFail)
	res.Fail("_submission._tcp.example.test", dns.TypeSRV, dnscheck.StatusTimeout)
	rep, err := Domain(context.Background(), Config{Resolver: res, Only: []string{"smtp"}}, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rep.Find("submission.srv-lookup-failed")); n != 2 {
		t.Errorf("%d submission.srv-lookup-failed findings, want 2", n)
	}
	if fs := rep.Find("submission.none"); len(fs) != 0 {
		t.Errorf("submission.none reported although the lookups failed: %+v", fs)
	}
	// The control: answers that say there is no SRV record do give it.
	rep, err = Domain(context.Background(), Config{Resolver: dnscheck.NewStaticResolver("example.test. 300 IN MX 0 ."), Only: []string{"smtp"}}, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Find("submission.none")) != 1 {
		t.Errorf("no submission.none for a domain without SRV records: %+v", rep.Findings())
	}
}
