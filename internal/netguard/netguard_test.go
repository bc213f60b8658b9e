package netguard

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestLoopbackOnly(t *testing.T) {
	for _, a := range []string{"127.0.0.1:25", "127.0.1.25:25", "[::1]:53", "::1", "[::ffff:127.0.0.1]:25"} {
		if err := Check(a); err != nil {
			t.Errorf("before LoopbackOnly: %s refused: %v", a, err)
		}
	}
	if err := Check("192.0.2.1:25"); err != nil {
		t.Errorf("before LoopbackOnly, every address is allowed: %v", err)
	}
	LoopbackOnly()
	for _, a := range []string{"127.0.0.1:25", "127.0.1.25:25", "[::1]:53"} {
		if err := Check(a); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
	for _, a := range []string{"192.0.2.1:25", "[2001:db8::1]:25", "10.255.255.53:53", "mx.example.com:25", "0.0.0.0:25"} {
		if err := Check(a); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s allowed (err %v)", a, err)
		}
	}
	if _, err := Dial(context.Background(), "tcp", "192.0.2.1:25"); err == nil {
		t.Fatal("Dial reached a non-loopback address")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := Dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestDialFrom: the connection's local end is the address asked for (a
// second loopback address), and DialFrom refuses what Dial refuses.
func TestDialFrom(t *testing.T) {
	LoopbackOnly()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- err.Error()
			return
		}
		accepted <- c.RemoteAddr().String()
		c.Close()
	}()
	local := netip.MustParseAddr("127.0.0.5")
	c, err := DialFrom(context.Background(), "tcp", l.Addr().String(), local)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if host, _, _ := net.SplitHostPort(c.LocalAddr().String()); host != "127.0.0.5" {
		t.Errorf("local end %s, want 127.0.0.5", c.LocalAddr())
	}
	if host, _, _ := net.SplitHostPort(<-accepted); host != "127.0.0.5" {
		t.Errorf("the server saw the client at %s, want 127.0.0.5", host)
	}
	if _, err := DialFrom(context.Background(), "tcp", "192.0.2.1:25", local); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("DialFrom reached a non-loopback address (err %v)", err)
	}
	if _, err := DialFrom(context.Background(), "tcp", l.Addr().String(), netip.MustParseAddr("192.0.2.7")); err == nil {
		t.Error("DialFrom bound an address that is not this machine's")
	}
}
