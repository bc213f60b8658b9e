package check

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// TestSMTPHost: one dry run on a host by name: its address and reverse
// DNS from the resolver, RCPT TO postmaster@ the host's parent domain,
// the session with its transcript, and the DNS trace.
func TestSMTPHost(t *testing.T) {
	mx := smtptest.Start(t, smtptest.Options{Domain: "mx.host.test", LocalDomains: []string{"host.test"}})
	defer smtptest.AssertNoMessage(t, mx.Rec)
	srv := dnstest.Start(t, `
mx.host.test.            A   127.0.0.1
1.0.0.127.in-addr.arpa.  PTR mx.host.test.
`)
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(mx.Addr)
	host, p, err := SplitHostPort("MX.Host.Test.:" + port)
	if err != nil || host != "mx.host.test" || strconv.Itoa(p) != port {
		t.Fatalf("SplitHostPort: %s %d %v", host, p, err)
	}
	cfg := Config{Resolver: res, Version: "test", SMTP: SMTPOptions{HELO: "probe.mxray.test", SessionTimeout: 10 * time.Second}}
	rep, err := SMTPHost(context.Background(), cfg, HostTarget{Input: "MX.Host.Test.:" + port, Host: host, Port: p, NoRelayTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Command != "smtp" || rep.Target != "MX.Host.Test.:"+port || len(rep.Sections) != 1 {
		t.Fatalf("report %s %q, %d sections", rep.Command, rep.Target, len(rep.Sections))
	}
	d, ok := rep.Sections[0].Detail.(*probe.Detail)
	if !ok || len(d.Sessions) != 1 || d.Sessions[0].Addr != mx.Addr {
		t.Fatalf("detail %#v", rep.Sections[0].Detail)
	}
	if len(rep.Find("smtp.banner-ptr-match")) != 1 || len(rep.Find("smtp.postmaster-accepted")) != 1 || len(rep.Find("smtp.relay-denied")) != 0 {
		t.Errorf("findings %v", rep.Findings())
	}
	if !strings.Contains(strings.Join(mx.Rec.Commands(), "\n"), "RCPT TO:<postmaster@host.test>") {
		t.Errorf("commands %q", mx.Rec.Commands())
	}
	if len(rep.Trace) < 2 {
		t.Errorf("trace %v: the address and PTR lookups are not in it", rep.Trace)
	}
}

// TestPlanHost: the address to connect to, or why there is none.
func TestPlanHost(t *testing.T) {
	res := dnscheck.NewStaticResolver(
		"v4.host.test. 300 IN A 192.0.2.10",
		"v6.host.test. 300 IN AAAA 2001:db8::10",
		"both.host.test. 300 IN AAAA 2001:db8::11",
		"both.host.test. 300 IN A 192.0.2.11",
	)
	v4, v6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	for _, tc := range []struct {
		host    string
		res     dnscheck.Resolver
		source  netip.Addr
		addr    string
		err     error
		noAddr  report.Severity
		noAddrs bool
	}{
		{host: "192.0.2.7", addr: "192.0.2.7"}, // an IP address needs no resolver
		{host: "192.0.2.7", source: v6, err: ErrNoAddrOfFamily},
		{host: "v4.host.test", err: ErrNoResolver},
		{host: "v4.host.test", res: res, addr: "192.0.2.10"},
		{host: "both.host.test", res: res, source: v4, addr: "192.0.2.11"},
		{host: "both.host.test", res: res, source: v6, addr: "2001:db8::11"},
		{host: "v6.host.test", res: res, source: v4, err: ErrNoAddrOfFamily},
		{host: "none.host.test", res: res, noAddrs: true, noAddr: report.Failure},
	} {
		p, err := PlanHost(context.Background(), tc.res, HostTarget{Host: tc.host, Port: 25, Source: tc.source})
		switch {
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%s from %v: err %v, want %v", tc.host, tc.source, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.host, err)
		case tc.noAddrs:
			if p.NoAddress == nil || p.NoAddress.ID != "smtp.host-no-address" || p.NoAddress.Severity != tc.noAddr || p.Addr.IsValid() {
				t.Errorf("%s: %+v", tc.host, p)
			}
		case p.Addr.String() != tc.addr || p.NoAddress != nil:
			t.Errorf("%s from %v: %v, want %s", tc.host, tc.source, p.Addr, tc.addr)
		}
	}
}

// TestHostProbeConfig: the mail domain of RCPT TO postmaster@ and the
// catch-all probe, and no mail transaction on submission ports.
func TestHostProbeConfig(t *testing.T) {
	for _, tc := range []struct {
		t      HostTarget
		rcpts  []string
		domain string
		noMail bool
	}{
		{HostTarget{Host: "mx.example.com", Port: 25}, nil, "example.com", false},
		{HostTarget{Host: "example.com", Port: 25}, nil, "example.com", false},
		{HostTarget{Host: "192.0.2.7", Port: 25}, nil, "", false},
		{HostTarget{Host: "mx.example.com", Port: 25, Domain: "other.test"}, []string{"a@rcpt.test"}, "other.test", false},
		{HostTarget{Host: "mx.example.com", Port: 25}, []string{"a@rcpt.test"}, "rcpt.test", false},
		{HostTarget{Host: "smtp.example.com", Port: 587}, nil, "example.com", true},
		{HostTarget{Host: "smtp.example.com", Port: 465}, nil, "example.com", true},
	} {
		cfg := Config{SMTP: SMTPOptions{Recipients: tc.rcpts}}
		pc := (&HostPlan{Target: tc.t}).probeConfig(&cfg)
		if pc.Domain != tc.domain || pc.NoMail != tc.noMail {
			t.Errorf("%+v: domain %q, no mail %v; want %q, %v", tc.t, pc.Domain, pc.NoMail, tc.domain, tc.noMail)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"mx.example.com":         "mx.example.com 25",
		"MX.Example.COM.:587":    "mx.example.com 587",
		"192.0.2.7":              "192.0.2.7 25",
		"192.0.2.7:465":          "192.0.2.7 465",
		"::ffff:192.0.2.7":       "192.0.2.7 25",
		"2001:db8::1":            "2001:db8::1 25",
		"[2001:db8::1]:2525":     "2001:db8::1 2525",
		"bücher.example":         "xn--bcher-kva.example 25",
		"":                       "error",
		"mx.example.com:0":       "error",
		"mx.example.com:99999":   "error",
		"mx.example.com:smtp":    "error",
		"exa mple.com":           "error",
		"[2001:db8::1]:notaport": "error",
	} {
		host, port, err := SplitHostPort(in)
		got := host + " " + strconv.Itoa(port)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("SplitHostPort(%q) = %s (%v), want %s", in, got, err, want)
		}
	}
}
