package dnstest

// Serving on a fixed address. Programs that resolve through libc (Postfix,
// Exim: getaddrinfo, res_query) read nameservers from /etc/resolv.conf and
// always use port 53, so a test that points such a peer at the test world
// needs the server on a known loopback address and port 53 — for example
// 127.0.1.53:53, named in a resolv.conf bind-mounted inside a private mount
// namespace. Binding port 53 needs root (or CAP_NET_BIND_SERVICE).

import (
	"fmt"
	"net"
)

// StartAt is Start on a fixed address ("127.0.1.53:53"), UDP and TCP. It
// fails the test when the address cannot be bound and stops the server when
// the test ends.
func StartAt(t TB, addr, zone string) *Server {
	t.Helper()
	s, err := NewAt(addr, zone)
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewAt is StartAt without a test. The address must carry an explicit
// port; a port of 0 picks a free one, but the UDP and TCP ports may then
// differ — use New for that.
func NewAt(addr, zone string) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		// The test world never serves beyond this machine.
		return nil, fmt.Errorf("listen address %q: not a loopback IP address", addr)
	}
	if port == "0" {
		return nil, fmt.Errorf("listen address %q: needs a fixed port (use New for an ephemeral one)", addr)
	}
	s, err := newServer(zone)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return nil, err
	}
	s.serve2(pc, l)
	return s, nil
}
