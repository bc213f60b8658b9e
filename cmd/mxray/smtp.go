package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "smtp", order: 20, summary: "one SMTP dry run with its transcript, timings and every reply explained",
		usage: "mxray smtp HOST[:PORT] [--source IP] [flags]", run: runSMTP})
	checkFlagHooks = append(checkFlagHooks, smtpCheckFlags)
}

// smtpFlags are the flags shared by 'mxray smtp' and 'mxray check'.
type smtpFlags struct {
	helo, from string
	rcpts      []string
	transcript bool
}

func addSMTPFlags(fs *pflag.FlagSet) *smtpFlags {
	f := &smtpFlags{}
	fs.StringVar(&f.helo, "helo", "", "name to say in EHLO/HELO (default: this machine's fully qualified name; without one, the\n"+
		"address literal of the local end of the connection, e.g. [192.0.2.1], as RFC 5321 §4.1.1.1 asks)")
	fs.StringVar(&f.from, "from", "", "MAIL FROM address (default: the null sender <>, then postmaster@HELO-NAME if <> is refused)")
	fs.StringArrayVar(&f.rcpts, "rcpt", nil, "also try RCPT TO this address (repeatable); no message is ever sent")
	fs.BoolVar(&f.transcript, "transcript", false, "show the whole SMTP transcript, every line with its time")
	return f
}

func (f *smtpFlags) validate() error {
	if f.from != "" && !strings.Contains(f.from, "@") {
		return fmt.Errorf("--from %q is not an address (want local@domain)", f.from)
	}
	for _, r := range f.rcpts {
		if !strings.Contains(r, "@") || strings.ContainsAny(r, "<> \r\n") {
			return fmt.Errorf("--rcpt %q is not an address (want local@domain)", r)
		}
	}
	if strings.ContainsAny(f.helo, " \r\n") {
		return fmt.Errorf("--helo %q must be one name", f.helo)
	}
	return nil
}

// smtpCheckFlags adds --helo, --from, --rcpt, --submission and --transcript to 'mxray check'.
func smtpCheckFlags(fs *pflag.FlagSet) func(cfg *check.Config) error {
	f := addSMTPFlags(fs)
	sub := fs.StringArray("submission", nil, "also check mail submission on HOST[:PORT] (repeatable; without a port, 587 and 465)")
	return func(cfg *check.Config) error {
		if err := f.validate(); err != nil {
			return err
		}
		cfg.SMTP.HELO, cfg.SMTP.From, cfg.SMTP.Recipients = f.helo, f.from, f.rcpts
		cfg.SMTP.ShowTranscript = f.transcript
		cfg.SMTP.Submission = *sub
		return nil
	}
}

func runSMTP(ctx context.Context, stdio IO, args []string) int {
	c := newSMTPCommand(stdio)
	if code, done := parseFlags(c.fs, stdio, "smtp", args); done {
		return code
	}
	host, port, err := c.target()
	if err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	cfg, err := c.probeConfig(stdio, host, port)
	if err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	if cfg.LocalAddr, err = c.sourceAddr(); err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}

	ctx, cancel := c.g.context(ctx)
	defer cancel()
	rep := report.New("smtp", c.fs.Arg(0), version, time.Now())
	sec := rep.Section("smtp", "SMTP dry run (no message is sent)")

	res, rerr := c.g.resolver()
	addr, noAddr, err := address(ctx, res, rerr, host, cfg.LocalAddr)
	switch {
	case errors.Is(err, errNoAddrOfFamily):
		return usageError(stdio, "smtp", "%v", err)
	case err != nil:
		fmt.Fprintf(stdio.Stderr, "mxray smtp: %v\n", err)
		return report.ExitUnknown
	case noAddr != nil:
		sec.Add(*noAddr)
		rep.Finish(time.Now())
		return c.g.render(stdio, rep)
	}
	o := findingOptions(ctx, res, rerr, addr)
	s := probe.DryRun(ctx, cfg, probe.Target{Host: host, Addr: net.JoinHostPort(addr.String(), strconv.Itoa(port))})
	if cfg.LocalAddr.IsValid() {
		sec.Add(report.Finding{ID: "smtp.source", Severity: report.Info, Subject: host,
			Summary:  "the session was opened from " + cfg.LocalAddr.String() + " (--source): the replies below are what " + host + " says to that address",
			Evidence: []string{"local end of the connection: " + s.LocalAddr}})
	}
	sec.Add(s.Findings(o)...)
	sec.Detail = &probe.Detail{Sessions: []*probe.Session{s}, ShowTranscript: c.f.transcript, ShowReplies: true}
	if tr, ok := any(res).(interface{ Trace() []report.Query }); ok && res != nil {
		rep.Trace = tr.Trace()
	}
	rep.Finish(time.Now())
	return c.g.render(stdio, rep)
}

// smtpCommand is the flag set of 'mxray smtp' and its flags.
type smtpCommand struct {
	fs                                                 *pflag.FlagSet
	g                                                  *globalFlags
	f                                                  *smtpFlags
	domain, tlsMode, authUser                          *string
	implicitTLS, startTLS, noCatchAll, noVRFY, noRelay *bool
	connectTimeout, commandTimeout                     *time.Duration
	source                                             *string
}

func newSMTPCommand(stdio IO) *smtpCommand {
	fs := newFlagSet("smtp", stdio, "mxray smtp HOST[:PORT] [--source IP] [flags]",
		"Talks to one mail server as a sending MTA would: reads the greeting, says EHLO, starts TLS, and tries\n"+
			"MAIL FROM and RCPT TO (postmaster, --rcpt, a random address for catch-all, an open-relay probe),\n"+
			"then QUIT. It never sends DATA: no message is delivered. Port 25 and 587 use STARTTLS, 465 implicit TLS.")
	c := &smtpCommand{fs: fs}
	c.g = addGlobalFlags(fs)
	c.f = addSMTPFlags(fs)
	c.domain = fs.String("domain", "", "mail domain for RCPT TO postmaster@DOMAIN and the catch-all probe\n(default: the domain of the first --rcpt, else HOST without its first label)")
	c.tlsMode = fs.String("tls", "auto", "auto (STARTTLS when offered; implicit TLS on 465), starttls, implicit, or none")
	c.implicitTLS = fs.Bool("implicit-tls", false, "same as --tls implicit (TLS from the first byte, as on port 465)")
	c.startTLS = fs.Bool("starttls", false, "same as --tls starttls")
	c.authUser = fs.String("auth", "", "authenticate as USER with AUTH PLAIN, over TLS only; the password is read from\n$MXRAY_SMTP_PASSWORD (never from the command line) and never shown")
	c.noCatchAll = fs.Bool("no-catch-all", false, "do not try a random recipient")
	c.noVRFY = fs.Bool("no-vrfy", false, "do not ask VRFY postmaster at the end of the session")
	c.noRelay = fs.Bool("no-relay-test", false, "do not try the open-relay recipient")
	c.source = fs.String("source", "", "open the session from this local IP address (one of this machine's), to see what a receiver\n"+
		"says to that address: reproduces a refusal of a sending IP (as swaks --local-interface)")
	c.connectTimeout = fs.Duration("connect-timeout", 10*time.Second, "deadline for the TCP connection")
	c.commandTimeout = fs.Duration("command-timeout", 30*time.Second, "deadline for each reply (the greeting included)")
	return c
}

// target checks the argument and the shared flags and returns the HOST
// and PORT to probe.
func (c *smtpCommand) target() (string, int, error) {
	if c.fs.NArg() != 1 {
		return "", 0, fmt.Errorf("want exactly one HOST[:PORT], got %d arguments", c.fs.NArg())
	}
	if err := c.g.validate(); err != nil {
		return "", 0, err
	}
	if err := c.f.validate(); err != nil {
		return "", 0, err
	}
	return splitHostPort(c.fs.Arg(0))
}

// probeConfig builds the dry run's settings from the flags.
func (c *smtpCommand) probeConfig(stdio IO, host string, port int) (probe.Config, error) {
	cfg := probe.Config{HELO: c.f.helo, From: c.f.from, Recipients: c.f.rcpts, NoCatchAll: *c.noCatchAll, NoRelayTest: *c.noRelay, NoVRFY: *c.noVRFY,
		ConnectTimeout: *c.connectTimeout, GreetingTimeout: *c.commandTimeout, CommandTimeout: *c.commandTimeout, SessionTimeout: c.g.timeout}
	mode, err := c.mode()
	if err != nil {
		return cfg, err
	}
	cfg.Mode = mode
	if *c.authUser != "" {
		pw := ""
		if stdio.Env != nil {
			pw = stdio.Env("MXRAY_SMTP_PASSWORD")
		}
		if pw == "" {
			return cfg, errors.New("--auth needs the password in $MXRAY_SMTP_PASSWORD")
		}
		cfg.Auth = &probe.Credentials{Username: *c.authUser, Password: pw}
	}
	cfg.Domain = c.mailDomain(host)
	if port == 587 || port == 465 {
		cfg.NoMail = true // submission: no mail transaction without authentication
	}
	return cfg, nil
}

// sourceAddr is --source, checked to be an address of this machine.
func (c *smtpCommand) sourceAddr() (netip.Addr, error) {
	if *c.source == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(strings.Trim(*c.source, "[]"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--source %q is not an IP address", *c.source)
	}
	a = a.Unmap()
	if err := probe.CheckLocalAddr(a); err != nil {
		return netip.Addr{}, fmt.Errorf("--source: %v", err)
	}
	return a, nil
}

// mode is --tls, or --implicit-tls / --starttls; "auto" is the zero Mode.
func (c *smtpCommand) mode() (probe.Mode, error) {
	tlsMode := *c.tlsMode
	switch {
	case *c.implicitTLS && *c.startTLS:
		return "", errors.New("--implicit-tls and --starttls exclude each other")
	case *c.implicitTLS:
		tlsMode = "implicit"
	case *c.startTLS:
		tlsMode = "starttls"
	}
	switch tlsMode {
	case "auto":
		return "", nil
	case "starttls":
		return probe.ModeSTARTTLS, nil
	case "implicit":
		return probe.ModeImplicitTLS, nil
	case "none":
		return probe.ModePlain, nil
	}
	return "", fmt.Errorf("--tls %q: want auto, starttls, implicit or none", tlsMode)
}

// mailDomain is --domain, else the domain of the first --rcpt, else HOST
// without its first label (none for an IP address).
func (c *smtpCommand) mailDomain(host string) string {
	domain := *c.domain
	if domain == "" && len(c.f.rcpts) > 0 {
		domain = c.f.rcpts[0][strings.LastIndexByte(c.f.rcpts[0], '@')+1:]
	}
	if domain == "" {
		if _, err := netip.ParseAddr(host); err != nil {
			domain = parentDomain(host)
		}
	}
	return domain
}

// errNoAddrOfFamily: the target has no address of the --source address's
// family (IPv4 cannot reach IPv6).
var errNoAddrOfFamily = errors.New("no address of the source address's family")

// address is the address to connect to: an IP literal as given, else the
// host's first address from the resolver (the same resolver as every
// other check) — of the family of source, when one is given. A host
// without an address gets a finding instead; an error means there is no
// resolver to ask, or no address of source's family.
func address(ctx context.Context, res *dnscheck.Client, rerr error, host string, source netip.Addr) (netip.Addr, *report.Finding, error) {
	sameFamily := func(a netip.Addr) bool { return !source.IsValid() || a.Unmap().Is4() == source.Is4() }
	if a, err := netip.ParseAddr(host); err == nil {
		if !sameFamily(a) {
			return netip.Addr{}, nil, fmt.Errorf("%w: %s cannot be reached from %s", errNoAddrOfFamily, a, source)
		}
		return a, nil, nil
	}
	if rerr != nil {
		return netip.Addr{}, nil, rerr
	}
	h := dnscheck.LookupHost(ctx, res, host)
	if len(h.Addrs) > 0 && source.IsValid() {
		for _, a := range h.Addrs {
			if sameFamily(a) {
				return a, nil, nil
			}
		}
		return netip.Addr{}, nil, fmt.Errorf("%w: %s has no %s address to reach from %s", errNoAddrOfFamily, host, map[bool]string{true: "IPv4", false: "IPv6"}[source.Is4()], source)
	}
	if len(h.Addrs) == 0 {
		sev := report.Failure
		if h.Failed() {
			sev = report.Unknown
		}
		return netip.Addr{}, &report.Finding{ID: "smtp.host-no-address", Severity: sev, Subject: host,
			Summary:  host + " has no address to connect to",
			Evidence: []string{h.A.Describe(), h.AAAA.Describe()}}, nil
	}
	return h.Addrs[0], nil, nil
}

// findingOptions carry the reverse DNS of addr, when there is a resolver
// to ask, for the banner check.
func findingOptions(ctx context.Context, res *dnscheck.Client, rerr error, addr netip.Addr) probe.FindingOptions {
	o := probe.FindingOptions{}
	if rerr != nil {
		return o
	}
	ptr := dnscheck.CheckPTR(ctx, res, addr)
	o.PTRStatus = ptr.Status
	o.PTR = []string{}
	for _, n := range ptr.Names {
		o.PTR = append(o.PTR, n.Name)
	}
	return o
}

// splitHostPort accepts HOST, HOST:PORT, IPv6, [IPv6]:PORT; the default port is 25.
func splitHostPort(s string) (string, int, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), 25, nil
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		host, p = s, "25"
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", s)
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if _, err := netip.ParseAddr(host); err != nil {
		n, err := dnscheck.NormalizeDomain(host)
		if err != nil {
			return "", 0, err
		}
		host = n
	}
	return host, port, nil
}

// parentDomain drops the first label of a host with three labels or more
// (mx.example.com → example.com); a two-label name is its own domain.
func parentDomain(h string) string {
	if strings.Count(h, ".") >= 2 {
		return h[strings.IndexByte(h, '.')+1:]
	}
	return h
}
