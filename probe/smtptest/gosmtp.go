package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options is the policy of a go-smtp fake.
type Options struct {
	// Domain is the name in the greeting and EHLO reply.
	Domain string
	// LocalDomains are the domains the server receives mail for.
	LocalDomains []string
	// Users are the local parts that exist in every local domain
	// ("postmaster" exists unless RejectPostmaster).
	Users            []string
	RejectPostmaster bool
	// CatchAll accepts any local part in a local domain.
	CatchAll bool
	// OpenRelay accepts recipients in any domain.
	OpenRelay bool
	// Greylist defers every RCPT TO with 450 4.7.1.
	Greylist bool
	// RejectNullSender refuses MAIL FROM:<>.
	RejectNullSender bool
	// RejectMail refuses every MAIL FROM with this error.
	RejectMail *smtp.SMTPError
	// TLS enables STARTTLS with this configuration; with Implicit, the
	// listener speaks TLS from the first byte (port 465 style).
	TLS      *tls.Config
	Implicit bool
	// ReplyDelay is slept before every reply (the greeting included).
	ReplyDelay time.Duration
	// AuthMechs are advertised in AUTH (after TLS; before TLS too with
	// InsecureAuth). Authentication itself always fails: mxray never tries.
	AuthMechs    []string
	InsecureAuth bool
	// AuthUsers are the username → password pairs AUTH PLAIN accepts.
	AuthUsers map[string]string
	// SMTPUTF8, and the like, are advertised when set.
	SMTPUTF8        bool
	MaxMessageBytes int64
}

// Server is a running fake.
type Server struct {
	Addr string
	Rec  *Recorder
	srv  *smtp.Server
}

// Start runs a go-smtp fake on 127.0.0.1 until the test ends.
func Start(t TB, opt Options) *Server {
	t.Helper()
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New is Start without a test: the fake runs on 127.0.0.1 until Close.
// mxray demo serves its embedded world with it.
func New(opt Options) (*Server, error) {
	if opt.Domain == "" {
		opt.Domain = "mx.test"
	}
	if opt.Implicit && opt.TLS == nil {
		return nil, errors.New("smtptest: Implicit needs TLS")
	}
	rec := &Recorder{}
	be := &backend{opt: opt, rec: rec}
	s := smtp.NewServer(be)
	s.Domain = opt.Domain
	s.TLSConfig = opt.TLS
	s.EnableSMTPUTF8 = opt.SMTPUTF8
	s.AllowInsecureAuth = opt.InsecureAuth
	s.MaxMessageBytes = opt.MaxMessageBytes
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.ErrorLog = discardLogger{}
	// The Debug stream carries what the server reads and writes, after
	// STARTTLS too (go-smtp re-wraps the connection). Client commands are
	// the lines that do not start with a reply code.
	s.Debug = &commandSniffer{rec: rec}

	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if opt.ReplyDelay > 0 {
		l = &delayListener{Listener: l, delay: opt.ReplyDelay}
	}
	if opt.Implicit {
		l = tls.NewListener(l, opt.TLS)
		s.TLSConfig = nil // no STARTTLS inside implicit TLS
	}
	go func() { _ = s.Serve(l) }()
	return &Server{Addr: addr, Rec: rec, srv: s}, nil
}

// Close stops the fake and closes its connections.
func (s *Server) Close() { _ = s.srv.Close() }

type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}

// commandSniffer splits the Debug stream into lines and records the ones
// that are not replies. Replies are written whole by go-smtp, and commands
// arrive one per read on loopback, so line reassembly is enough.
type commandSniffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	rec *Recorder
}

func (c *commandSniffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	for {
		i := bytes.IndexByte(c.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(c.buf.Next(i+1)), "\r\n")
		if len(line) >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9' &&
			(len(line) == 3 || line[3] == ' ' || line[3] == '-') {
			continue // a reply
		}
		c.rec.Add(line)
	}
	return len(p), nil
}

type backend struct {
	opt Options
	rec *Recorder

	mu        sync.Mutex
	greylited map[string]bool
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if len(b.opt.AuthMechs) > 0 {
		return &authSession{session{b: b}}, nil
	}
	return &session{b: b}, nil
}

// authSession advertises AUTH; PLAIN succeeds for AuthUsers, anything
// else fails.
type authSession struct{ session }

func (s *authSession) AuthMechanisms() []string { return s.b.opt.AuthMechs }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	s.b.rec.Add("(AUTH attempted: " + mech + ")")
	if mech == "PLAIN" && s.b.opt.AuthUsers != nil {
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if pw, ok := s.b.opt.AuthUsers[username]; ok && pw == password && (identity == "" || identity == username) {
				return nil
			}
			return smtp.ErrAuthFailed
		}), nil
	}
	return nil, smtp.ErrAuthFailed
}

type session struct {
	b    *backend
	from string
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	o := s.b.opt
	if o.RejectMail != nil {
		return o.RejectMail
	}
	if from == "" && o.RejectNullSender {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Null sender not accepted here"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	o := s.b.opt
	if o.Greylist {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "<" + to + ">: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/test.html"}
	}
	at := strings.LastIndexByte(to, '@')
	if at < 0 {
		return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
	}
	local, domain := strings.ToLower(to[:at]), strings.ToLower(to[at+1:])
	isLocal := false
	for _, d := range o.LocalDomains {
		if strings.EqualFold(d, domain) {
			isLocal = true
		}
	}
	if !isLocal {
		if o.OpenRelay {
			return nil
		}
		// Postfix's wording (smtpd_relay_restrictions, reject_unauth_destination).
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "<" + to + ">: Relay access denied"}
	}
	if local == "postmaster" {
		if o.RejectPostmaster {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected: User unknown in virtual mailbox table"}
		}
		return nil
	}
	if o.CatchAll {
		return nil
	}
	for _, u := range o.Users {
		if strings.EqualFold(u, local) {
			return nil
		}
	}
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected: User unknown in virtual mailbox table"}
}

func (s *session) Data(r io.Reader) error {
	s.b.rec.mu.Lock()
	s.b.rec.messages++
	s.b.rec.mu.Unlock()
	_, _ = io.Copy(io.Discard, r)
	return errors.New("smtptest: this fake never accepts a message")
}

// delayListener delays every reply: the first write after a read (or the
// first write of the connection) sleeps first. go-smtp writes a multi-line
// reply in several writes; only the first is delayed, so each reply costs
// one delay, like a server that takes that long to decide.
type delayListener struct {
	net.Listener
	delay time.Duration
}

func (l *delayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &delayConn{Conn: c, delay: l.delay, replyDue: true}, nil
}

type delayConn struct {
	net.Conn
	delay    time.Duration
	mu       sync.Mutex
	replyDue bool
}

func (c *delayConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.replyDue = true
		c.mu.Unlock()
	}
	return n, err
}

func (c *delayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	due := c.replyDue
	c.replyDue = false
	c.mu.Unlock()
	if due {
		time.Sleep(c.delay)
	}
	return c.Conn.Write(p)
}

// readLine reads one line for the raw scripts, without its line ending.
func readLine(br *bufio.Reader) (string, error) {
	l, err := br.ReadString('\n')
	if err != nil {
		return strings.TrimRight(l, "\r\n"), err
	}
	return strings.TrimRight(l, "\r\n"), nil
}
