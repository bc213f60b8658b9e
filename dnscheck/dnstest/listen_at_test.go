package dnstest

import (
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestNewAtRejects(t *testing.T) {
	for _, tc := range []struct{ addr, err string }{
		{"127.0.1.54", "missing port"},
		{"192.0.2.1:53", "not a loopback"},
		{"localhost:53", "not a loopback"},
		{"127.0.1.54:0", "needs a fixed port"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			s, err := NewAt(tc.addr, "")
			if err == nil {
				s.Close()
				t.Fatalf("NewAt(%q) succeeded", tc.addr)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NewAt(%q): %v, want %q", tc.addr, err, tc.err)
			}
		})
	}
}

func TestStartAtServesUDPAndTCP(t *testing.T) {
	// A port free on 127.0.1.54 for UDP; TCP may still collide, which
	// NewAt reports instead of picking another.
	pc, err := net.ListenPacket("udp", "127.0.1.54:0")
	if err != nil {
		t.Skipf("cannot bind 127.0.1.54: %v", err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	s := StartAt(t, addr, "host.example. 300 IN A 192.0.2.7\n")
	if s.Addr != addr {
		t.Fatalf("Addr %q, want %q", s.Addr, addr)
	}
	if _, err := NewAt(addr, ""); err == nil {
		t.Errorf("a second server bound %s", addr)
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network}
		m := new(dns.Msg)
		m.SetQuestion("host.example.", dns.TypeA)
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v", network, err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.7" {
			t.Errorf("%s: answer %v", network, r.Answer)
		}
	}
}
