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

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/report"
)

// DialFunc opens a TCP connection; tests route "MX address:25" to a fake.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Config is one dry run's settings. The zero value (plus a Dial) is a
// polite port-25 probe with the defaults below.
type Config struct {
	// Dial opens the connection. nil: netguard.Dial (a net.Dialer), from
	// LocalAddr when that is set.
	Dial DialFunc
	// LocalAddr, when valid, is the local address the session is opened
	// from (mxray smtp --source, as swaks' --local-interface): a receiver
	// that refuses a client address is seen refusing that address. It
	// must be an address of this machine (CheckLocalAddr); it is used only
	// when Dial is nil.
	LocalAddr netip.Addr
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

// CheckLocalAddr reports whether a session can be opened from ip: an
// address of this machine (it can be bound). The error says why not.
func CheckLocalAddr(ip netip.Addr) error {
	if !ip.IsValid() || ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("%s is not a unicast address to send from", ip)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return fmt.Errorf("%s is not an address of this machine (%v)", ip, err)
	}
	return l.Close()
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
		if local := cfg.LocalAddr; local.IsValid() {
			cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				return netguard.DialFrom(ctx, network, addr, local)
			}
		}
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

// dryRun is one session: connect, then talk until QUIT or the first step
// that ends the session. The transcript is kept whichever way it ends.
func dryRun(ctx context.Context, cfg Config, target Target) *Session {
	s, cfg := newSession(cfg, target)
	start := time.Now()
	defer func() { s.Timings.Total = report.Duration(time.Since(start)) }()

	ctx, cancel := context.WithTimeout(ctx, cfg.SessionTimeout)
	defer cancel()

	conn, ok := s.connect(ctx, cfg, start)
	if !ok {
		return s
	}
	connected := time.Now()
	d := newDialogue(s, conn, cfg)
	defer d.hangUp()
	d.run(ctx, connected)
	return s
}

// newSession works out the address and port to dial, fills in the
// defaults of cfg for that port and starts the session's record.
func newSession(cfg Config, target Target) (*Session, Config) {
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
	return s, cfg
}

// connect opens the TCP connection. On failure the session ends there,
// with the connect status and a single connect step.
func (s *Session) connect(ctx context.Context, cfg Config, start time.Time) (net.Conn, bool) {
	dctx, dcancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := cfg.Dial(dctx, "tcp", s.Addr)
	dcancel()
	s.Timings.Connect = report.Duration(time.Since(start))
	if err != nil {
		s.Status, s.Detail = connectStatus(ctx, err)
		s.Steps = []Step{{Stage: catalog.StageConnect, SentAt: s.StartedAt, Error: err.Error()}}
		return nil, false
	}
	return conn, true
}

// dialogue is a dry run on an open connection: the session being
// recorded, the client that talks to the server, and the run's settings.
type dialogue struct {
	s          *Session
	c          *Client
	cfg        Config
	local      net.Addr // the local end of the connection
	serverName string   // for SNI and certificate verification
}

func newDialogue(s *Session, conn net.Conn, cfg Config) *dialogue {
	s.LocalAddr = conn.LocalAddr().String()
	c := NewClient(conn, cfg.Limits, cfg.CommandTimeout)
	c.now = time.Now
	serverName := cfg.TLS.ServerName
	if serverName == "" {
		serverName = strings.TrimSuffix(s.Host, ".")
	}
	return &dialogue{s: s, c: c, cfg: cfg, local: conn.LocalAddr(), serverName: serverName}
}

// hangUp closes the connection and keeps the transcript in the session.
func (d *dialogue) hangUp() {
	_ = d.c.Close()
	d.s.Steps = d.c.Steps()
}

// run is the session from the first byte to QUIT, in that order; it stops
// at the first step that ends the session.
func (d *dialogue) run(ctx context.Context, connected time.Time) {
	if d.cfg.Mode == ModeImplicitTLS {
		var ok bool
		if connected, ok = d.implicitTLS(ctx); !ok {
			return
		}
	}
	if !d.greet(ctx, connected) {
		return
	}
	d.s.HELOName = heloName(d.cfg.HELO, d.local)
	// EHLO, with HELO on 500/502 (RFC 5321 §4.1.4: a server that does not
	// support EHLO answers 500 or 502, and the client may fall back).
	if !d.s.hello(ctx, d.c) {
		return
	}
	if d.cfg.Mode == ModeSTARTTLS && d.s.Extensions.Has("STARTTLS") && !d.startTLS(ctx) {
		return
	}
	if d.cfg.Auth != nil && !d.logIn(ctx) {
		return
	}
	if !d.cfg.NoMail && !d.s.transaction(ctx, d.c, d.cfg) {
		return
	}
	if !d.cfg.NoVRFY && !d.cfg.NoMail && !d.askVRFY(ctx) {
		return
	}
	d.quit(ctx)
}

// implicitTLS is the handshake before the greeting (port 465, RFC 8314
// §3.3). It returns the time the greeting is timed from: the end of the
// handshake.
func (d *dialogue) implicitTLS(ctx context.Context) (time.Time, bool) {
	s, c := d.s, d.c
	t0 := time.Now()
	info, err := c.handshakeInfo(ctx, d.cfg.TLS, d.serverName, d.cfg.Now())
	s.Timings.TLS = report.Duration(time.Since(t0))
	s.TLS = info
	c.Note(catalog.StageConnect, tlsNote(info))
	if err != nil {
		s.Status, s.Detail = StatusTLSHandshakeFailed, "implicit TLS handshake failed: "+err.Error()
		return time.Time{}, false
	}
	return time.Now(), true // the greeting is timed from the end of the handshake
}

// greet reads the greeting (RFC 5321 §4.3.1): all of it, before saying
// anything. Anything but a 220 ends the session.
func (d *dialogue) greet(ctx context.Context, connected time.Time) bool {
	s, c := d.s, d.c
	g, err := c.ReadGreeting(ctx, d.cfg.GreetingTimeout, connected)
	s.Timings.Greeting = report.Duration(time.Since(connected))
	s.Greeting = g
	if g != nil {
		s.BannerHost = firstWord(g.Text())
	}
	if err != nil {
		s.Status, s.Detail = errStatus(ctx, err, catalog.StageConnect)
		return false
	}
	if g.Code != 220 {
		s.Status, s.Detail = greetingStatus(g)
		// RFC 5321 §3.1: after a 554 greeting the server waits for QUIT; a
		// 421 means the server is closing (§3.8). Any other refusal (a 450
		// from Postfix's smtpd_delay_reject=no, a non-standard 5xx) gets a
		// QUIT too: it is the polite way to end a session we will not use.
		if g.Code != 421 {
			s.Quit, _ = c.Command(ctx, catalog.StageQUIT, "QUIT")
		}
		return false
	}
	return true
}

// heloName is the name to say in EHLO/HELO: the configured one, else the
// machine's fully qualified name, else the address literal of the local
// end of the connection (RFC 5321 §4.1.1.1).
func heloName(helo string, local net.Addr) string {
	if helo == "" {
		helo = DefaultHELO()
	}
	if helo == "" {
		helo = addressLiteral(local)
	}
	return helo
}

// startTLS upgrades the connection (RFC 3207) and says EHLO again; false
// ends the session.
func (d *dialogue) startTLS(ctx context.Context) bool {
	s, c := d.s, d.c
	t0 := time.Now()
	r, tc, err := c.StartTLS(ctx, tlsConfig(d.cfg.TLS, d.serverName))
	s.STARTTLS = r
	switch {
	case err != nil && tc == nil:
		s.Status, s.Detail = errStatus(ctx, err, catalog.StageSTARTTLS)
		return false
	case tc != nil:
		s.TLS = inspectTLS(tc.ConnectionState(), err, d.cfg.TLS, d.serverName, d.cfg.Now())
		s.Timings.TLS = report.Duration(time.Since(t0))
		c.Note(catalog.StageSTARTTLS, tlsNote(s.TLS))
		if err != nil {
			s.Status, s.Detail = StatusTLSHandshakeFailed, "STARTTLS handshake failed: "+err.Error()
			return false
		}
		// RFC 3207 §4.2: forget what was learnt before TLS; EHLO again.
		ext := s.Extensions
		if !s.hello(ctx, c) {
			return false
		}
		s.ExtensionsTLS, s.Extensions = s.Extensions, ext
		return true
	default:
		// A refusal (454 "TLS not available") lets the session go on
		// in plaintext, as a sending MTA would.
		return !s.end421(r)
	}
}

// logIn authenticates with the given credentials (see authenticate);
// false ends the session.
func (d *dialogue) logIn(ctx context.Context) bool {
	if !d.s.authenticate(ctx, d.c, d.cfg) {
		return false
	}
	if d.s.Auth.Reply.Positive() {
		// An authenticated client may relay: the open-relay probe
		// would prove nothing.
		d.cfg.NoRelayTest = true
	}
	return true
}

// askVRFY (RFC 5321 §3.5): does the server confirm addresses to anyone?
// Asked last, so that a server that dislikes it cannot spoil the
// dry run; "postmaster" exists on every mail domain (§4.5.1). False ends
// the session.
func (d *dialogue) askVRFY(ctx context.Context) bool {
	r, err := d.c.Command(ctx, catalog.StageVRFY, "VRFY postmaster")
	d.s.VRFY = r
	if err != nil {
		d.s.Status, d.s.Detail = errStatus(ctx, err, catalog.StageVRFY)
		return false
	}
	return !d.s.end421(r)
}

// quit says QUIT at the end of a session that ran its course; it is OK
// unless a step said otherwise (greylisting).
func (d *dialogue) quit(ctx context.Context) {
	d.s.Quit, _ = d.c.Command(ctx, catalog.StageQUIT, "QUIT")
	if d.s.Status == "" {
		d.s.Status = StatusOK
	}
}

// hello sends EHLO (and HELO on 500/502) and records the result; false
// ends the session.
func (s *Session) hello(ctx context.Context, c *Client) bool {
	r, err := c.Command(ctx, catalog.StageEHLO, "EHLO "+s.HELOName)
	if err != nil {
		s.EHLO = r
		s.Status, s.Detail = errStatus(ctx, err, catalog.StageEHLO)
		return false
	}
	if r.Code == 500 || r.Code == 502 {
		s.HELOFallback = true
		r, err = c.Command(ctx, catalog.StageEHLO, "HELO "+s.HELOName)
		if err != nil {
			s.EHLO = r
			s.Status, s.Detail = errStatus(ctx, err, catalog.StageEHLO)
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
		s.Quit, _ = c.Command(ctx, catalog.StageQUIT, "QUIT")
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
		s.Status, s.Detail = errStatus(ctx, err, catalog.StageAUTH)
		return false
	}
	return !s.end421(r)
}

// transaction runs MAIL FROM and the RCPT TOs; false ends the session.
func (s *Session) transaction(ctx context.Context, c *Client, cfg Config) bool {
	accepted, ok := s.tryMail(ctx, c, s.senders(cfg))
	if !ok {
		return false
	}
	if !accepted {
		return true // nothing to RCPT; QUIT
	}
	return s.tryRecipients(ctx, c, recipients(cfg))
}

// senders are the reverse-paths for MAIL FROM, in order: cfg.From, then
// the probe sender for when From is refused.
func (s *Session) senders(cfg Config) []string {
	froms := []string{cfg.From}
	probe := cfg.ProbeSender
	if probe == "" && !strings.HasPrefix(s.HELOName, "[") {
		probe = "postmaster@" + s.HELOName
	}
	if probe != "-" && probe != "" && probe != cfg.From {
		froms = append(froms, probe)
	}
	return froms
}

// tryMail says MAIL FROM with each sender in turn until one is accepted;
// ok false ends the session.
func (s *Session) tryMail(ctx context.Context, c *Client, froms []string) (accepted, ok bool) {
	for i, from := range froms {
		if i > 0 {
			// A refused MAIL leaves no transaction; RSET keeps strict
			// servers happy before the next try (RFC 5321 §4.1.1.5).
			if !s.reset(ctx, c) {
				return false, false
			}
		}
		r, err := c.Command(ctx, catalog.StageMAIL, "MAIL FROM:<"+from+">")
		m := MailResult{From: from, Reply: r}
		if err != nil {
			m.Error = err.Error()
			s.MailFrom = append(s.MailFrom, m)
			s.Status, s.Detail = errStatus(ctx, err, catalog.StageMAIL)
			return false, false
		}
		s.MailFrom = append(s.MailFrom, m)
		if s.end421(r) {
			return false, false
		}
		if r.Positive() {
			return true, true
		}
	}
	return false, true
}

// reset sends RSET between two MAIL FROM tries; false ends the session.
func (s *Session) reset(ctx context.Context, c *Client) bool {
	r, err := c.Command(ctx, catalog.StageRSET, "RSET")
	if err != nil {
		s.Status, s.Detail = errStatus(ctx, err, catalog.StageRSET)
		return false
	}
	return !s.end421(r)
}

// rcptProbe is one RCPT TO to try.
type rcptProbe struct {
	kind RcptKind
	addr string
}

// recipients are the RCPT TOs, in order: postmaster@domain, the --rcpt
// addresses, a random local part (catch-all), the open-relay address.
func recipients(cfg Config) []rcptProbe {
	var list []rcptProbe
	if cfg.Domain != "" {
		list = append(list, rcptProbe{RcptPostmaster, "postmaster@" + cfg.Domain})
	}
	for _, a := range cfg.Recipients {
		list = append(list, rcptProbe{RcptUser, a})
	}
	if cfg.Domain != "" && !cfg.NoCatchAll {
		list = append(list, rcptProbe{RcptRandom, randomLocal() + "@" + cfg.Domain})
	}
	if !cfg.NoRelayTest && !strings.EqualFold(domainOf(cfg.RelayRcpt), cfg.Domain) {
		list = append(list, rcptProbe{RcptRelay, cfg.RelayRcpt})
	}
	return list
}

// tryRecipients says RCPT TO for each recipient; false ends the session.
// A greylisted postmaster marks the session greylisted and goes on.
func (s *Session) tryRecipients(ctx context.Context, c *Client, list []rcptProbe) bool {
	for _, rc := range list {
		r, err := c.Command(ctx, catalog.StageRCPT, "RCPT TO:<"+rc.addr+">")
		res := RcptResult{Kind: rc.kind, Address: rc.addr, Reply: r}
		if err != nil {
			res.Error = err.Error()
			s.Rcpts = append(s.Rcpts, res)
			s.Status, s.Detail = errStatus(ctx, err, catalog.StageRCPT)
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
func errStatus(ctx context.Context, err error, stage catalog.Stage) (Status, string) {
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
		if stage == catalog.StageConnect {
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
