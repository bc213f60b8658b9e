package probe

// The wire client: just enough SMTP client to talk to a server the way a
// sending MTA does, and to keep every byte it says with a timestamp.
//
// It is written on bufio rather than on go-smtp's client (design.md §3):
// it must read the 220 greeting before speaking (Postfix postscreen and
// similar pregreet tests punish clients that talk first), keep the greeting
// and every EHLO line, say the EHLO name it was given before and after TLS,
// handshake eagerly so the outcome is recorded, take a context, and give up
// on hostile input — an endless line, endless continuation lines, a drip of
// one byte per second — with a clear error instead of a hang.
//
// SAFETY: the client cannot send a message. It has no method for DATA or
// BDAT (RFC 5321 §4.1.1.4, RFC 3030), and the one function that writes
// commands, send, refuses any line whose verb is DATA or BDAT. A dry run
// ends after RCPT TO with QUIT.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/report"
)

// Limits bound what a server may make the client read. Zero fields take the
// defaults.
type Limits struct {
	// MaxLineLength is the longest reply line accepted, CRLF included.
	// RFC 5321 §4.5.3.1.5 allows 512 octets; default 4096.
	MaxLineLength int
	// MaxLines is the most lines one reply may have (EHLO replies have
	// about 10 to 20). Default 200.
	MaxLines int
	// MaxBytes is the most octets read from the server in one session.
	// Default 1 MiB.
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = 4096
	}
	if l.MaxLines <= 0 {
		l.MaxLines = 200
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 20
	}
	return l
}

// ErrForbiddenCommand is returned by the command guard for DATA and BDAT.
var ErrForbiddenCommand = errors.New("probe: refusing to send DATA/BDAT: mxray never transfers a message")

// ProtocolError is a reply that breaks RFC 5321 §4.2 or the client's limits.
type ProtocolError struct {
	Msg  string
	Line string // the offending line (truncated), if any
}

func (e *ProtocolError) Error() string {
	if e.Line != "" {
		return e.Msg + ": " + quoteTrunc(e.Line, 80)
	}
	return e.Msg
}

// ErrClosed is returned when the server closed the connection mid-reply or
// before replying.
var ErrClosed = errors.New("connection closed by the server")

// Step is one exchange of the session: a command (empty for the greeting)
// and the reply it got, with times. A step with Note only records an event
// (the TLS handshake).
type Step struct {
	Stage   catalog.Stage `json:"stage"`
	Command string        `json:"command,omitempty"`
	SentAt  time.Time     `json:"sent_at,omitempty"`
	Reply   *Reply        `json:"reply,omitempty"`
	// Duration runs from sending the command (from connecting, for the
	// greeting) to the last line of the reply.
	Duration report.Duration `json:"duration_ms"`
	Error    string          `json:"error,omitempty"`
	Note     string          `json:"note,omitempty"`
}

// Client is a connection to one SMTP server.
type Client struct {
	conn    net.Conn
	br      *bufio.Reader
	counter *countingReader
	limits  Limits
	// commandTimeout bounds the wait for one whole reply.
	commandTimeout time.Duration
	now            func() time.Time

	mu    sync.Mutex
	steps []Step
}

// NewClient wraps an established connection (plain, or TLS for implicit TLS).
func NewClient(conn net.Conn, limits Limits, commandTimeout time.Duration) *Client {
	limits = limits.withDefaults()
	if commandTimeout <= 0 {
		commandTimeout = 30 * time.Second
	}
	c := &Client{conn: conn, limits: limits, commandTimeout: commandTimeout, now: time.Now}
	c.counter = &countingReader{r: conn, left: limits.MaxBytes}
	c.br = bufio.NewReaderSize(c.counter, 4096)
	return c
}

// Steps returns a copy of the exchanges so far.
func (c *Client) Steps() []Step {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Step(nil), c.steps...)
}

func (c *Client) record(s Step) {
	c.mu.Lock()
	c.steps = append(c.steps, s)
	c.mu.Unlock()
}

// Conn is the current connection (the TLS connection after STARTTLS).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// ReadGreeting reads the 220 greeting (RFC 5321 §4.3.1) without sending
// anything first. started is when the connection was established, so the
// step's duration is the time the server took to greet.
func (c *Client) ReadGreeting(ctx context.Context, timeout time.Duration, started time.Time) (*Reply, error) {
	if timeout <= 0 {
		timeout = c.commandTimeout
	}
	r, err := c.readReply(ctx, catalog.StageConnect, started.Add(timeout))
	// SentAt of the greeting step is when the connection was established.
	st := Step{Stage: catalog.StageConnect, SentAt: started, Reply: r, Duration: report.Duration(c.now().Sub(started))}
	if err != nil {
		st.Error = err.Error()
	}
	c.record(st)
	return r, err
}

// Command sends one command line and reads its reply. line is without CRLF.
func (c *Client) Command(ctx context.Context, stage catalog.Stage, line string) (*Reply, error) {
	return c.command(ctx, stage, line, line)
}

// command sends line and records shown in its place (AUTH hides the
// credentials: they never enter the transcript).
func (c *Client) command(ctx context.Context, stage catalog.Stage, line, shown string) (*Reply, error) {
	sent := c.now()
	st := Step{Stage: stage, Command: shown, SentAt: sent}
	// Without PIPELINING the server speaks only after a command (RFC 5321
	// §4.3.1). Bytes already waiting now would be taken as the reply to
	// this command: the conversation is out of step.
	if n := c.br.Buffered(); n > 0 {
		err := &ProtocolError{Msg: fmt.Sprintf("server sent %d octets nobody asked for before %s (out of step)", n, strings.Fields(shown + " ?")[0])}
		st.Error = err.Error()
		c.record(st)
		return nil, err
	}
	if err := c.send(ctx, line); err != nil {
		st.Error = err.Error()
		c.record(st)
		return nil, err
	}
	r, err := c.readReply(ctx, stage, sent.Add(c.commandTimeout))
	st.Reply = r
	st.Duration = report.Duration(c.now().Sub(sent))
	if err != nil {
		st.Error = err.Error()
	}
	c.record(st)
	return r, err
}

// Note records an event in the transcript.
func (c *Client) Note(stage catalog.Stage, note string) {
	c.record(Step{Stage: stage, SentAt: c.now(), Note: note})
}

// send writes one command. It is the only function that writes commands,
// and the guard that makes sending a message impossible.
func (c *Client) send(ctx context.Context, line string) error {
	if forbidden(line) {
		return ErrForbiddenCommand
	}
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("probe: command contains CR or LF: %q", line)
	}
	deadline := c.now().Add(c.commandTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_ = c.conn.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	_, err := io.WriteString(c.conn, line+"\r\n")
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// forbidden is the DATA/BDAT guard: the verb, case-insensitive, with or
// without arguments.
func forbidden(line string) bool {
	verb := strings.ToUpper(strings.TrimSpace(line))
	if i := strings.IndexAny(verb, " \t"); i >= 0 {
		verb = verb[:i]
	}
	// Prefix match: "DATA", "BDAT 100 LAST", and anything glued to them.
	return strings.HasPrefix(verb, "DATA") || strings.HasPrefix(verb, "BDAT")
}

// readReply reads one whole reply before deadline (or ctx's end, whichever
// comes first). The deadline bounds the whole reply, not each read, so a
// server dripping one byte per second cannot keep the client waiting.
func (c *Client) readReply(ctx context.Context, stage catalog.Stage, deadline time.Time) (*Reply, error) {
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_ = c.conn.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	r := &Reply{Stage: stage}
	for {
		line, err := c.readLine()
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			if len(r.Lines) > 0 {
				r.ReceivedAt = c.now()
				return r, err // keep the partial reply as evidence
			}
			return nil, err
		}
		code, more, ok := parseLine(line)
		if !ok {
			r.Lines = append(r.Lines, line)
			r.ReceivedAt = c.now()
			return r, &ProtocolError{Msg: "not an SMTP reply line (RFC 5321 §4.2)", Line: line}
		}
		if len(r.Lines) > 0 && code != r.Code {
			r.Lines = append(r.Lines, line)
			r.ReceivedAt = c.now()
			return r, &ProtocolError{Msg: fmt.Sprintf("multi-line reply changes its code from %d to %d (RFC 5321 §4.2.1)", r.Code, code), Line: line}
		}
		r.Code = code
		r.Lines = append(r.Lines, line)
		if !more {
			break
		}
		if len(r.Lines) >= c.limits.MaxLines {
			r.ReceivedAt = c.now()
			return r, &ProtocolError{Msg: fmt.Sprintf("reply has more than %d lines", c.limits.MaxLines)}
		}
	}
	r.ReceivedAt = c.now()
	r.Enhanced = parseEnhanced(r.Code, lineText(r.Lines[0]))
	r.Explain = catalog.Explain(stage, r.Code, r.Enhanced, r.Text())
	return r, nil
}

// readLine reads one line of at most MaxLineLength octets, CRLF included,
// and returns it without the line ending. A bare LF is accepted (it is
// common and harmless when reading).
func (c *Client) readLine() (string, error) {
	var buf []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(buf)+len(frag) > c.limits.MaxLineLength {
			return "", &ProtocolError{Msg: fmt.Sprintf("reply line longer than %d octets (RFC 5321 §4.5.3.1.5 allows 512)", c.limits.MaxLineLength),
				Line: string(append(buf, frag...))}
		}
		buf = append(buf, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if errors.Is(err, io.EOF) {
			return "", ErrClosed
		}
		return "", err
	}
	return strings.TrimRight(string(buf), "\r\n"), nil
}

// StartTLS sends STARTTLS (RFC 3207 §4) and, on 220, performs the TLS
// handshake with cfg. It returns the reply, the TLS connection (nil if the
// handshake was not attempted) and the handshake error. On a failed
// handshake the TLS connection is still returned: its state is what the
// caller records.
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) (*Reply, *tls.Conn, error) {
	r, err := c.Command(ctx, catalog.StageSTARTTLS, "STARTTLS")
	if err != nil || r.Code != 220 {
		return r, nil, err
	}
	// RFC 3207 §4: nothing may follow the 220 before the handshake. Bytes
	// already buffered here were sent in plaintext and would be taken as if
	// they came over TLS (the STARTTLS command injection of CVE-2011-0411).
	if n := c.br.Buffered(); n > 0 {
		return r, nil, &ProtocolError{Msg: fmt.Sprintf("server sent %d octets after its 220 reply to STARTTLS, before the TLS handshake (RFC 3207 §4)", n)}
	}
	tc, err := c.handshake(ctx, cfg)
	return r, tc, err
}

// handshake runs a client TLS handshake on the current connection and
// switches the client to it.
func (c *Client) handshake(ctx context.Context, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(c.conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.commandTimeout)
	defer cancel()
	_ = c.conn.SetDeadline(time.Time{})
	err := tc.HandshakeContext(hctx)
	c.conn = tc
	c.counter.r = tc
	c.br.Reset(c.counter)
	return tc, err
}

// countingReader stops the session after MaxBytes octets.
type countingReader struct {
	r    io.Reader
	left int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	if cr.left <= 0 {
		return 0, &ProtocolError{Msg: "server sent more data than the session limit allows"}
	}
	if int64(len(p)) > cr.left {
		p = p[:cr.left]
	}
	n, err := cr.r.Read(p)
	cr.left -= int64(n)
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func quoteTrunc(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%q… (%d octets)", s[:n], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// AuthPlain authenticates with SASL PLAIN (RFC 4954 §4, RFC 4616) in one
// command. It refuses to run outside TLS: mxray never sends a password in
// clear text. The transcript shows "AUTH PLAIN <credentials hidden>".
func (c *Client) AuthPlain(ctx context.Context, user, pass string) (*Reply, error) {
	if _, ok := c.conn.(*tls.Conn); !ok {
		return nil, errors.New("probe: refusing AUTH outside TLS")
	}
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	return c.command(ctx, catalog.StageAUTH, "AUTH PLAIN "+resp, "AUTH PLAIN <credentials hidden>")
}
