package smtptest

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// RawConn is one connection to a scripted server. Scripts call Send to
// write reply lines and ReadCommand to read (and record) a command; errors
// end the script quietly, since the client hanging up is a normal outcome.
type RawConn struct {
	conn net.Conn
	br   *bufio.Reader
	rec  *Recorder
	done chan struct{}
}

// Send writes each line followed by CRLF. It returns false once the client
// has gone.
func (c *RawConn) Send(lines ...string) bool {
	for _, l := range lines {
		if _, err := io.WriteString(c.conn, l+"\r\n"); err != nil {
			return false
		}
	}
	return true
}

// Write writes bytes as they are (no CRLF added).
func (c *RawConn) Write(s string) bool {
	_, err := io.WriteString(c.conn, s)
	return err == nil
}

// Drip writes s one byte at a time, every interval, until done or the
// client goes away.
func (c *RawConn) Drip(s string, every time.Duration) bool {
	for i := 0; i < len(s); i++ {
		if _, err := c.conn.Write([]byte{s[i]}); err != nil {
			return false
		}
		select {
		case <-time.After(every):
		case <-c.done:
			return false
		}
	}
	return true
}

// ReadCommand reads and records one command line.
func (c *RawConn) ReadCommand() (string, bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	l, err := readLine(c.br)
	if l != "" || err == nil {
		c.rec.Add(l)
	}
	return l, err == nil
}

// Expect reads commands until one starts with verb (case-insensitive),
// answering the others with 250 OK; false if the client went away.
func (c *RawConn) Expect(verb string) (string, bool) {
	for {
		l, ok := c.ReadCommand()
		if !ok {
			return l, false
		}
		if strings.HasPrefix(strings.ToUpper(l), strings.ToUpper(verb)) {
			return l, true
		}
		if !c.Send("250 2.0.0 OK") {
			return l, false
		}
	}
}

// StartTLS turns the connection into a TLS server connection (after the
// script sent its 220 to STARTTLS, or at once for implicit TLS) and
// handshakes; false if the handshake failed.
func (c *RawConn) StartTLS(cfg *tls.Config) bool {
	tc := tls.Server(c.conn, cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return false
	}
	_ = tc.SetDeadline(time.Time{})
	c.conn = tc
	c.br = bufio.NewReader(tc)
	return true
}

// Silence waits until the client hangs up or the test ends.
func (c *RawConn) Silence() {
	_ = c.conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 512)
	for {
		if _, err := c.conn.Read(buf); err != nil {
			return
		}
	}
}

// RemoteAddr is the client's address ("127.0.0.3:41234").
func (c *RawConn) RemoteAddr() string { return c.conn.RemoteAddr().String() }

// Closed reports whether the test is over.
func (c *RawConn) Closed() <-chan struct{} { return c.done }

// Session runs a typical well-behaved exchange after the greeting was sent:
// EHLO gets ehlo (lines without codes), MAIL/RCPT/RSET/NOOP/VRFY get 250,
// QUIT gets 221. It returns when the client quits or goes away.
func (c *RawConn) Session(ehlo ...string) {
	for {
		l, ok := c.ReadCommand()
		if !ok {
			return
		}
		verb := strings.ToUpper(strings.Fields(l + " x")[0])
		switch verb {
		case "EHLO":
			lines := append([]string{"mx.test"}, ehlo...)
			for i, x := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				lines[i] = "250" + sep + x
			}
			c.Send(lines...)
		case "HELO":
			c.Send("250 mx.test")
		case "QUIT":
			c.Send("221 2.0.0 Bye")
			return
		default:
			c.Send("250 2.0.0 OK")
		}
	}
}

// RawServer is a running scripted server.
type RawServer struct {
	Addr string
	Rec  *Recorder
}

// StartRaw serves script on every connection accepted on 127.0.0.1 until
// the test ends; the connection is closed when script returns.
func StartRaw(t TB, script func(c *RawConn)) *RawServer {
	t.Helper()
	return StartRawAt(t, "127.0.0.1", script)
}

// StartRawAt is StartRaw on another loopback address ("127.0.0.2"): a
// server whose clients come from an address other than its own (the
// tests of mxray smtp --source).
func StartRawAt(t TB, ip string, script func(c *RawConn)) *RawServer {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				rc := &RawConn{conn: nc, br: bufio.NewReader(nc), rec: rec, done: done}
				script(rc)
				_ = rc.conn.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &RawServer{Addr: l.Addr().String(), Rec: rec}
}
