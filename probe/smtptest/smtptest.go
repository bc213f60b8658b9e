// Package smtptest is the SMTP side of mxray's test world: fake mail
// servers on loopback for the probe's tests.
//
//   - Start runs a go-smtp server (github.com/emersion/go-smtp) with a
//     small policy: local domains, known users, catch-all, open relay,
//     greylisting, per-stage rejections, STARTTLS or implicit TLS, and an
//     optional delay before every reply (for the latency benchmark).
//   - StartRaw runs a scripted server for what go-smtp cannot produce: odd
//     and multi-line banners, rejection at greeting, garbage, 1 MB lines,
//     endless continuation lines, a drip of one byte per second, silence,
//     mismatched multi-line codes, TLS failures.
//   - NewPKI makes certificates in the test: valid, expired, wrong name,
//     self-signed, chain with a missing intermediate.
//
// Every fake records every command line it receives (after TLS too), and
// AssertNoMessage fails a test if any fake saw DATA, BDAT or message
// content: mxray must never send a message.
package smtptest

import (
	"context"
	"net"
	"strings"
	"sync"
)

// TB is the part of testing.TB the fakes use; *testing.T and *testing.B
// satisfy it. The package does not import testing, so that a program
// (mxray demo) can run the fakes (New, BuildPKI) without linking the test
// framework.
type TB interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Recorder keeps every command line received by one fake server.
type Recorder struct {
	mu       sync.Mutex
	commands []string
	messages int // Data() calls (go-smtp backend)
}

// Add records one line as received.
func (r *Recorder) Add(line string) {
	r.mu.Lock()
	r.commands = append(r.commands, line)
	r.mu.Unlock()
}

// Commands returns the lines received so far, in order.
func (r *Recorder) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.commands...)
}

// Verbs returns the upper-cased first word of every command.
func (r *Recorder) Verbs() []string {
	var out []string
	for _, c := range r.Commands() {
		f := strings.Fields(c)
		if len(f) > 0 {
			out = append(out, strings.ToUpper(f[0]))
		}
	}
	return out
}

// Message returns the first DATA/BDAT command seen, or a description of a
// message received, and whether there was any.
func (r *Recorder) Message() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.commands {
		u := strings.ToUpper(strings.TrimSpace(c))
		if strings.HasPrefix(u, "DATA") || strings.HasPrefix(u, "BDAT") {
			return c, true
		}
	}
	if r.messages > 0 {
		return "a message reached the backend", true
	}
	return "", false
}

// AssertNoMessage fails t if any recorder saw DATA, BDAT or a message.
func AssertNoMessage(t TB, recs ...*Recorder) {
	t.Helper()
	for _, r := range recs {
		if r == nil {
			continue
		}
		if what, ok := r.Message(); ok {
			t.Errorf("SAFETY: a fake server received %q; mxray must never send DATA/BDAT or a message (commands: %q)", what, r.Commands())
		}
	}
}

// Router returns a dial function that sends connections for the keys
// ("192.0.2.1:25") to the values (a fake's loopback address); other
// addresses are dialed as given (tests only use loopback).
func Router(routes map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := routes[addr]; ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}

// SilentAddr returns a loopback address whose listener never accepts: the
// kernel completes the TCP handshake, and then nothing is ever said (a
// tarpit, or a proxy holding the connection). It is closed when the test ends.
func SilentAddr(t TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// Blackhole is a dialer for a network that drops every packet: no answer
// comes until the context's deadline, as with egress filtering of port 25.
func Blackhole(ctx context.Context, network, addr string) (net.Conn, error) {
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
}

// ClosedAddr returns a loopback address where nothing listens (connection
// refused).
func ClosedAddr(t TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
