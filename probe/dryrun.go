package probe

// The dry run: a mail transaction up to, and never beyond, RCPT TO.
//
//	connect → 220 greeting → EHLO (HELO on 500/502) → STARTTLS → EHLO →
//	MAIL FROM → RCPT TO postmaster@domain, --rcpt..., a random local part,
//	an address in a domain the server is not responsible for → QUIT
//
// RCPT TO is where a receiving server decides (RFC 5321 §3.3): the sender
// and recipient are judged, DNSBL and greylisting are applied, unknown users
// are refused. Stopping before DATA observes all of that and delivers
// nothing. Every reply is kept with its stage; the session's Status says in
// one word how it ended.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/report"
)

// DialFunc opens a TCP connection; tests route "MX address:25" to a fake.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Config is one dry run's settings. The zero value (plus a Dial) is a
// polite port-25 probe with the defaults below.
type Config struct {
	// Dial opens the connection. nil: netguard.Dial (a net.Dialer).
	Dial DialFunc
	// HELO is the name said in EHLO/HELO. Empty: DefaultHELO(), and if the
	// machine has no fully qualified name, an address literal of the local
	// end of the connection ("[192.0.2.1]"), as RFC 5321 §4.1.1.1 asks of a
	// host without a name.
	HELO string
	// From is the reverse-path of MAIL FROM; empty is the null path <>,
	// which every server must accept for bounces (RFC 5321 §4.5.5).
	From string
	// ProbeSender is tried when From is refused (some servers refuse <>
	// outside of bounces). Empty: postmaster@ the HELO name, when that is a
	// domain name. "-" disables the fallback.
	ProbeSender string
	// Domain is the mail domain: RCPT TO postmaster@Domain (RFC 5321
	// §4.5.1) and the catch-all probe use it. Empty: neither is tried.
	Domain string
	// Recipients are extra RCPT TO addresses (--rcpt).
	Recipients []string
	// NoCatchAll and NoRelayTest turn the two probes off.
	NoCatchAll, NoRelayTest bool
	// NoVRFY skips "VRFY postmaster" at the end of the session (NoMail
	// skips it too: a submission check asks nothing about addresses).
	NoVRFY bool
	// RelayRcpt is the open-relay probe address; default
	// DefaultRelayRcpt. The domain must be one the target cannot be
	// responsible for.
	RelayRcpt string
	// NoMail stops after EHLO (and STARTTLS): the submission checks.
	NoMail bool
	// Auth, when set, authenticates with AUTH PLAIN after TLS (never
	// before). No credentials are tried unless the caller passes them; the
	// transcript never contains them.
	Auth *Credentials
	// NoPlainRetry turns off the plaintext session after a failed
	// STARTTLS handshake.
	NoPlainRetry bool
	// Mode: STARTTLS (default; implicit TLS when the port is 465) or plain.
	Mode Mode
	TLS  TLSOptions

	// Timeouts; zero takes the default.
	ConnectTimeout  time.Duration // default 10 s
	GreetingTimeout time.Duration // default 30 s (RFC 5321 §4.5.3.2 allows 5 min; postscreen delays ~6 s)
	CommandTimeout  time.Duration // default 30 s per reply
	SessionTimeout  time.Duration // default 2 min for the whole session
	Limits          Limits

	// Now is the clock used for certificate validity; nil: time.Now.
	Now func() time.Time
}

// Credentials for AUTH PLAIN.
type Credentials struct {
	Username, Password string
}

// DefaultRelayRcpt is in example.org, reserved by RFC 2606: no server on
// the internet is responsible for it, so accepting it means relaying.
const DefaultRelayRcpt = "mxray-relay-probe@example.org"

// Target is the server to probe.
type Target struct {
	// Host is the server's name (the MX host name): used for SNI,
	// certificate verification and the banner comparison. May be an IP.
	Host string
	// Addr is the "address:port" to dial; empty: Host on port 25.
	Addr string
}

// DefaultHELO is the machine's fully qualified name, or "" when it has none
// (os.Hostname without a dot, or a localhost name).
func DefaultHELO() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if !strings.Contains(h, ".") || strings.HasPrefix(h, "localhost") {
		return ""
	}
	return h
}

// addressLiteral is the RFC 5321 §4.1.3 address literal of a local address.
func addressLiteral(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return "[127.0.0.1]"
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		return "[IPv6:" + ip.String() + "]"
	}
	return "[" + ip.String() + "]"
}

func (cfg Config) withDefaults(port int) Config {
	if cfg.Dial == nil {
		cfg.Dial = netguard.Dial
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeSTARTTLS
		if port == 465 {
			cfg.Mode = ModeImplicitTLS
		}
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.GreetingTimeout <= 0 {
		cfg.GreetingTimeout = 30 * time.Second
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 30 * time.Second
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 2 * time.Minute
	}
	if cfg.RelayRcpt == "" {
		cfg.RelayRcpt = DefaultRelayRcpt
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// DryRun runs one SMTP session against target and returns what it saw. It
// never returns nil and never sends DATA or BDAT.
//
// When the STARTTLS handshake fails, a sending MTA with opportunistic TLS
// (RFC 3207 §4.1, RFC 7435) reconnects and delivers in plaintext; DryRun
// does the same (unless NoPlainRetry) and keeps that second session in
// PlainRetry, so the recipients are still observed.
func DryRun(ctx context.Context, cfg Config, target Target) *Session {
	s := dryRun(ctx, cfg, target)
	if s.Status == StatusTLSHandshakeFailed && s.Mode == ModeSTARTTLS && !cfg.NoMail && !cfg.NoPlainRetry && ctx.Err() == nil {
		pcfg := cfg
		pcfg.Mode = ModePlain
		s.PlainRetry = dryRun(ctx, pcfg, target)
	}
	return s
}

func dryRun(ctx context.Context, cfg Config, target Target) *Session {
	addr := target.Addr
	if addr == "" {
		addr = net.JoinHostPort(target.Host, "25")
	}
	port := 25
	if _, p, err := net.SplitHostPort(addr); err == nil {
		port, _ = strconv.Atoi(p)
	}
	cfg = cfg.withDefaults(port)
	s := &Session{Host: target.Host, Addr: addr, Port: port, Mode: cfg.Mode, Domain: cfg.Domain, StartedAt: cfg.Now()}
	if s.Host == "" {
		s.Host, _, _ = net.SplitHostPort(addr)
	}
	start := time.Now()
	defer func() { s.Timings.Total = report.Duration(time.Since(start)) }()

	ctx, cancel := context.WithTimeout(ctx, cfg.SessionTimeout)
	defer cancel()

	// Connect.
	dctx, dcancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := cfg.Dial(dctx, "tcp", addr)
	dcancel()
	s.Timings.Connect = report.Duration(time.Since(start))
	if err != nil {
		s.Status, s.Detail = connectStatus(ctx, err)
		s.Steps = []Step{{Stage: report.StageConnect, SentAt: s.StartedAt, Error: err.Error()}}
		return s
	}
	connected := time.Now()
	s.LocalAddr = conn.LocalAddr().String()
	c := NewClient(conn, cfg.Limits, cfg.CommandTimeout)
	c.now = time.Now
	defer func() {
		_ = c.Close()
		s.Steps = c.Steps()
	}()
	serverName := cfg.TLS.ServerName
	if serverName == "" {
		serverName = strings.TrimSuffix(s.Host, ".")
	}

	// Implicit TLS (port 465, RFC 8314 §3.3): handshake before the greeting.
	if cfg.Mode == ModeImplicitTLS {
		t0 := time.Now()
		info, err := c.handshakeInfo(ctx, cfg.TLS, serverName, cfg.Now())
		s.Timings.TLS = report.Duration(time.Since(t0))
		s.TLS = info
		c.Note(report.StageConnect, tlsNote(info))
		if err != nil {
			s.Status, s.Detail = StatusTLSHandshakeFailed, "implicit TLS handshake failed: "+err.Error()
			return s
		}
		connected = time.Now() // the greeting is timed from the end of the handshake
	}

	// Greeting (RFC 5321 §4.3.1): read it all before saying anything.
	g, err := c.ReadGreeting(ctx, cfg.GreetingTimeout, connected)
	s.Timings.Greeting = report.Duration(time.Since(connected))
	s.Greeting = g
	if g != nil {
		s.BannerHost = firstWord(g.Text())
	}
	if err != nil {
		s.Status, s.Detail = errStatus(ctx, err, report.StageConnect)
		return s
	}
	if g.Code != 220 {
		s.Status, s.Detail = greetingStatus(g)
		// RFC 5321 §3.1: after a 554 greeting the server waits for QUIT; a
		// 421 means the server is closing (§3.8). Any other refusal (a 450
		// from Postfix's smtpd_delay_reject=no, a non-standard 5xx) gets a
		// QUIT too: it is the polite way to end a session we will not use.
		if g.Code != 421 {
			s.Quit, _ = c.Command(ctx, report.StageQUIT, "QUIT")
		}
		return s
	}

	helo := cfg.HELO
	if helo == "" {
		helo = DefaultHELO()
	}
	if helo == "" {
		helo = addressLiteral(conn.LocalAddr())
	}
	s.HELOName = helo

	// EHLO, with HELO on 500/502 (RFC 5321 §4.1.4: a server that does not
	// support EHLO answers 500 or 502, and the client may fall back).
	if !s.hello(ctx, c) {
		return s
	}

	// STARTTLS (RFC 3207).
	if cfg.Mode == ModeSTARTTLS && s.Extensions.Has("STARTTLS") {
		t0 := time.Now()
		r, tc, err := c.StartTLS(ctx, tlsConfig(cfg.TLS, serverName))
		s.STARTTLS = r
		switch {
		case err != nil && tc == nil:
			s.Status, s.Detail = errStatus(ctx, err, report.StageSTARTTLS)
			return s
		case tc != nil:
			s.TLS = inspectTLS(tc.ConnectionState(), err, cfg.TLS, serverName, cfg.Now())
			s.Timings.TLS = report.Duration(time.Since(t0))
			c.Note(report.StageSTARTTLS, tlsNote(s.TLS))
			if err != nil {
				s.Status, s.Detail = StatusTLSHandshakeFailed, "STARTTLS handshake failed: "+err.Error()
				return s
			}
			// RFC 3207 §4.2: forget what was learnt before TLS; EHLO again.
			ext := s.Extensions
			if !s.hello(ctx, c) {
				return s
			}
			s.ExtensionsTLS, s.Extensions = s.Extensions, ext
		default:
			// A refusal (454 "TLS not available") lets the session go on
			// in plaintext, as a sending MTA would.
			if s.end421(r) {
				return s
			}
		}
	}

	if cfg.Auth != nil {
		if !s.authenticate(ctx, c, cfg) {
			return s
		}
		if s.Auth.Reply.Positive() {
			// An authenticated client may relay: the open-relay probe
			// would prove nothing.
			cfg.NoRelayTest = true
		}
	}
	if !cfg.NoMail {
		if !s.transaction(ctx, c, cfg) {
			return s
		}
	}
	// VRFY (RFC 5321 §3.5): does the server confirm addresses to anyone?
	// Asked last, so that a server that dislikes it cannot spoil the
	// dry run; "postmaster" exists on every mail domain (§4.5.1).
	if !cfg.NoVRFY && !cfg.NoMail {
		r, err := c.Command(ctx, report.StageVRFY, "VRFY postmaster")
		s.VRFY = r
		if err != nil {
			s.Status, s.Detail = errStatus(ctx, err, report.StageVRFY)
			return s
		}
		if s.end421(r) {
			return s
		}
	}
	s.Quit, _ = c.Command(ctx, report.StageQUIT, "QUIT")
	if s.Status == "" {
		s.Status = StatusOK
	}
	return s
}

// hello sends EHLO (and HELO on 500/502) and records the result; false
// ends the session.
func (s *Session) hello(ctx context.Context, c *Client) bool {
	r, err := c.Command(ctx, report.StageEHLO, "EHLO "+s.HELOName)
	if err != nil {
		s.EHLO = r
		s.Status, s.Detail = errStatus(ctx, err, report.StageEHLO)
		return false
	}
	if r.Code == 500 || r.Code == 502 {
		s.HELOFallback = true
		r, err = c.Command(ctx, report.StageEHLO, "HELO "+s.HELOName)
		if err != nil {
			s.EHLO = r
			s.Status, s.Detail = errStatus(ctx, err, report.StageEHLO)
			return false
		}
	}
	s.EHLO = r
	if s.end421(r) {
		return false
	}
	if r.Code != 250 {
		s.Status = StatusRejectedAtHELO
		s.Detail = fmt.Sprintf("the server refused our greeting %q: %s", s.HELOName, r.String())
		s.Quit, _ = c.Command(ctx, report.StageQUIT, "QUIT")
		return false
	}
	s.EHLOHost = firstWord(r.TextLines()[0])
	s.Extensions = parseExtensions(r)
	return true
}

// authenticate runs AUTH PLAIN when TLS is up and PLAIN is offered;
// false ends the session.
func (s *Session) authenticate(ctx context.Context, c *Client, cfg Config) bool {
	s.Auth = &AuthResult{Mechanism: "PLAIN", Username: cfg.Auth.Username}
	switch {
	case s.TLS == nil || s.TLS.Handshake != "ok":
		s.Auth.Skipped = "no TLS: mxray never sends credentials in clear text"
		return true
	case !containsFold(s.FinalExtensions().AuthMechanisms(), "PLAIN"):
		s.Auth.Skipped = "the server does not offer AUTH PLAIN (offered: " + strings.Join(s.FinalExtensions().AuthMechanisms(), " ") + ")"
		return true
	}
	r, err := c.AuthPlain(ctx, cfg.Auth.Username, cfg.Auth.Password)
	s.Auth.Reply = r
	if err != nil {
		s.Status, s.Detail = errStatus(ctx, err, report.StageAUTH)
		return false
	}
	return !s.end421(r)
}

// transaction runs MAIL FROM and the RCPT TOs; false ends the session.
func (s *Session) transaction(ctx context.Context, c *Client, cfg Config) bool {
	froms := []string{cfg.From}
	probe := cfg.ProbeSender
	if probe == "" && !strings.HasPrefix(s.HELOName, "[") {
		probe = "postmaster@" + s.HELOName
	}
	if probe != "-" && probe != "" && probe != cfg.From {
		froms = append(froms, probe)
	}
	accepted := false
	for i, from := range froms {
		if i > 0 {
			// A refused MAIL leaves no transaction; RSET keeps strict
			// servers happy before the next try (RFC 5321 §4.1.1.5).
			if r, err := c.Command(ctx, report.StageRSET, "RSET"); err != nil {
				s.Status, s.Detail = errStatus(ctx, err, report.StageRSET)
				return false
			} else if s.end421(r) {
				return false
			}
		}
		r, err := c.Command(ctx, report.StageMAIL, "MAIL FROM:<"+from+">")
		m := MailResult{From: from, Reply: r}
		if err != nil {
			m.Error = err.Error()
			s.MailFrom = append(s.MailFrom, m)
			s.Status, s.Detail = errStatus(ctx, err, report.StageMAIL)
			return false
		}
		s.MailFrom = append(s.MailFrom, m)
		if s.end421(r) {
			return false
		}
		if r.Positive() {
			accepted = true
			break
		}
	}
	if !accepted {
		return true // nothing to RCPT; QUIT
	}

	type rcpt struct {
		kind RcptKind
		addr string
	}
	var list []rcpt
	if cfg.Domain != "" {
		list = append(list, rcpt{RcptPostmaster, "postmaster@" + cfg.Domain})
	}
	for _, a := range cfg.Recipients {
		list = append(list, rcpt{RcptUser, a})
	}
	if cfg.Domain != "" && !cfg.NoCatchAll {
		list = append(list, rcpt{RcptRandom, randomLocal() + "@" + cfg.Domain})
	}
	if !cfg.NoRelayTest && !strings.EqualFold(domainOf(cfg.RelayRcpt), cfg.Domain) {
		list = append(list, rcpt{RcptRelay, cfg.RelayRcpt})
	}
	for _, rc := range list {
		r, err := c.Command(ctx, report.StageRCPT, "RCPT TO:<"+rc.addr+">")
		res := RcptResult{Kind: rc.kind, Address: rc.addr, Reply: r}
		if err != nil {
			res.Error = err.Error()
			s.Rcpts = append(s.Rcpts, res)
			s.Status, s.Detail = errStatus(ctx, err, report.StageRCPT)
			return false
		}
		s.Rcpts = append(s.Rcpts, res)
		if s.end421(r) {
			return false
		}
		if rc.kind == RcptPostmaster && Greylisting(r) {
			s.Status = StatusGreylisted
			s.Detail = "RCPT TO was deferred by greylisting: " + r.String()
		}
	}
	return true
}

// Greylisting recognises a greylisting deferral at RCPT TO: 450/451 with
// 4.7.1 (Postfix postgrey, rspamd) or the word in the text.
func Greylisting(r *Reply) bool {
	if r == nil || (r.Code != 450 && r.Code != 451) {
		return false
	}
	t := strings.ToLower(r.Text())
	return r.Enhanced == "4.7.1" || strings.Contains(t, "greylist") || strings.Contains(t, "graylist") || strings.Contains(t, "grey-list")
}

// end421 handles a 421 anywhere: the server closes the session (RFC 5321
// §3.8). It is rate limiting when the text says so.
func (s *Session) end421(r *Reply) bool {
	if r == nil || r.Code != 421 {
		return false
	}
	if rateLimitText(r.Text()) {
		s.Status = StatusRateLimited
	} else {
		s.Status = StatusClosedByServer
	}
	s.Detail = fmt.Sprintf("the server closed the session at %s: %s", r.Stage, r.String())
	return true
}

func rateLimitText(t string) bool {
	t = strings.ToLower(t)
	for _, w := range []string{"too many", "rate", "limit", "concurrent", "busy", "throttl", "try again later", "slow down", "overload"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

func greetingStatus(g *Reply) (Status, string) {
	if g.Code == 421 && rateLimitText(g.Text()) {
		return StatusRateLimited, "the server refused the connection for now: " + g.String()
	}
	return StatusRejectedAtGreeting, fmt.Sprintf("the server greeted with %d instead of 220: %s (%s)", g.Code, g.String(), g.Explain.Summary)
}

func connectStatus(ctx context.Context, err error) (Status, string) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return StatusConnectionRefused, "connection refused: nothing listens on the port, or a firewall rejects us"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL):
		// Local: no route or no source address for this family. (A remote
		// EHOSTUNREACH is the target's problem and stays connection-error.)
		return StatusNetworkUnreachable, "no route to the address from this network (" + err.Error() + "); common for IPv6 addresses on IPv4-only networks"
	case errors.Is(ctx.Err(), context.Canceled):
		return StatusCanceled, err.Error()
	case isTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return StatusConnectionTimeout, "no answer to the TCP connection attempt: a firewall drops the packets (here or there), or the host is down"
	}
	return StatusConnectionError, err.Error()
}

// errStatus names how a session that was under way ended on err.
func errStatus(ctx context.Context, err error, stage report.Stage) (Status, string) {
	var pe *ProtocolError
	switch {
	case errors.Is(err, context.Canceled):
		return StatusCanceled, "canceled"
	case errors.As(err, &pe):
		return StatusProtocolError, fmt.Sprintf("at %s: %v", stage, err)
	case errors.Is(err, ErrClosed):
		return StatusProtocolError, fmt.Sprintf("the server closed the connection at %s without a reply", stage)
	case errors.Is(err, ErrForbiddenCommand):
		return StatusProtocolError, err.Error()
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		// The connection's deadline and the context's timer fire at the
		// same instant; ctx.Err may lag, the clock does not.
		if d, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(d) {
			return StatusSessionTimeout, fmt.Sprintf("the session deadline ran out at %s", stage)
		}
		if stage == report.StageConnect {
			return StatusGreetingTimeout, "connected, but no complete 220 greeting came before the deadline (tarpit, postscreen delay or overloaded server)"
		}
		return StatusTarpitting, fmt.Sprintf("no complete reply at %s before the command deadline: the server is very slow (tarpitting)", stage)
	}
	return StatusProtocolError, fmt.Sprintf("at %s: %v", stage, err)
}

func tlsNote(t *TLSInfo) string {
	if t.Handshake != "ok" {
		return "TLS handshake failed: " + t.HandshakeError
	}
	n := fmt.Sprintf("TLS handshake: %s, %s", t.Version, t.CipherSuite)
	if len(t.Chain) > 0 {
		n += ", certificate " + certNames(t.Chain[0])
	}
	if t.Verified {
		n += ", verified for " + t.ServerName
	} else if t.Problem != "" {
		n += ", NOT verified (" + t.Problem + "): " + t.VerifyError
	}
	return n
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(f[0], "."))
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// randomLocal is a local part no one has: 12 random hex digits.
func randomLocal() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "mxray-nonexistent-" + hex.EncodeToString(b)
}
