package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
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
	t, err := c.target(stdio)
	if err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	cfg := c.config()
	res, rerr := c.g.resolver()
	if rerr == nil {
		cfg.Resolver = res
	}
	ctx, cancel := c.g.context(ctx)
	defer cancel()
	rep, err := check.SMTPHost(ctx, cfg, t)
	switch {
	case errors.Is(err, check.ErrNoAddrOfFamily):
		return usageError(stdio, "smtp", "%v", err)
	case errors.Is(err, check.ErrNoResolver):
		fmt.Fprintf(stdio.Stderr, "mxray smtp: %v\n", rerr)
		return report.ExitUnknown
	case err != nil:
		fmt.Fprintf(stdio.Stderr, "mxray smtp: %v\n", err)
		return report.ExitUnknown
	}
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

// target checks the argument and the flags and returns what to probe.
func (c *smtpCommand) target(stdio IO) (check.HostTarget, error) {
	if c.fs.NArg() != 1 {
		return check.HostTarget{}, fmt.Errorf("want exactly one HOST[:PORT], got %d arguments", c.fs.NArg())
	}
	if err := c.g.validate(); err != nil {
		return check.HostTarget{}, err
	}
	if err := c.f.validate(); err != nil {
		return check.HostTarget{}, err
	}
	host, port, err := check.SplitHostPort(c.fs.Arg(0))
	if err != nil {
		return check.HostTarget{}, err
	}
	t := check.HostTarget{Input: c.fs.Arg(0), Host: host, Port: port, Domain: *c.domain,
		NoCatchAll: *c.noCatchAll, NoRelayTest: *c.noRelay, NoVRFY: *c.noVRFY}
	if t.Mode, err = c.mode(); err != nil {
		return t, err
	}
	if t.Auth, err = c.auth(stdio); err != nil {
		return t, err
	}
	t.Source, err = c.sourceAddr()
	return t, err
}

// config is the session's settings from the flags.
func (c *smtpCommand) config() check.Config {
	return check.Config{Version: version, SMTP: check.SMTPOptions{HELO: c.f.helo, From: c.f.from, Recipients: c.f.rcpts,
		ShowTranscript: c.f.transcript, ConnectTimeout: *c.connectTimeout, GreetingTimeout: *c.commandTimeout,
		CommandTimeout: *c.commandTimeout, SessionTimeout: c.g.timeout}}
}

// auth is --auth with the password from $MXRAY_SMTP_PASSWORD.
func (c *smtpCommand) auth(stdio IO) (*probe.Credentials, error) {
	if *c.authUser == "" {
		return nil, nil
	}
	pw := ""
	if stdio.Env != nil {
		pw = stdio.Env("MXRAY_SMTP_PASSWORD")
	}
	if pw == "" {
		return nil, errors.New("--auth needs the password in $MXRAY_SMTP_PASSWORD")
	}
	return &probe.Credentials{Username: *c.authUser, Password: pw}, nil
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
