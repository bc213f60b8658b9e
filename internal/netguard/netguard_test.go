package netguard

import (
	"context"
	"net"
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
