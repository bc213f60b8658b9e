// Package netguard is the one place where mxray opens network connections
// when the caller gave no dialer of its own, and the switch that keeps test
// binaries on this machine.
//
// mxray's tests talk only to loopback (127.0.0.0/8, ::1): DNS from dnstest,
// SMTP from fakes or a local Postfix, HTTPS from httptest. Each test routes
// its connections itself; LoopbackOnly, called from the TestMain of every
// package that could reach the network, turns a forgotten route into a
// test failure instead of a packet to the internet.
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

var loopbackOnly atomic.Bool

// LoopbackOnly makes Dial and Check refuse every address outside loopback,
// for the rest of the process. Only test binaries call it.
func LoopbackOnly() { loopbackOnly.Store(true) }

// Check says whether a connection to addr ("ip:port" or "ip") is allowed.
func Check(addr string) error {
	if !loopbackOnly.Load() {
		return nil
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("netguard: connection to %s refused: this test binary talks only to loopback", addr)
	}
	return nil
}

// Dial is the default dialer of mxray's SMTP and HTTPS clients: a
// net.Dialer (10 s connect timeout, the context's deadline if sooner),
// behind Check.
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return DialFrom(ctx, network, addr, netip.Addr{})
}

// DialFrom is Dial with the local end of the connection bound to local,
// when it is valid (mxray smtp --source: a receiver that refuses a client
// address is seen refusing that address). local must be an address of
// this machine; the kernel refuses any other.
func DialFrom(ctx context.Context, network, addr string, local netip.Addr) (net.Conn, error) {
	if err := Check(addr); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	if local.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
	}
	return d.DialContext(ctx, network, addr)
}
