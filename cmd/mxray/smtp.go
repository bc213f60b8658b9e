package main

import (
	"context"
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
		usage: "mxray smtp HOST[:PORT] [flags]", run: runSMTP})
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
	fs := newFlagSet("smtp", stdio, "mxray smtp HOST[:PORT] [flags]",
		"Talks to one mail server as a sending MTA would: reads the greeting, says EHLO, starts TLS, and tries\n"+
			"MAIL FROM and RCPT TO (postmaster, --rcpt, a random address for catch-all, an open-relay probe),\n"+
			"then QUIT. It never sends DATA: no message is delivered. Port 25 and 587 use STARTTLS, 465 implicit TLS.")
	g := addGlobalFlags(fs)
	f := addSMTPFlags(fs)
	domain := fs.String("domain", "", "mail domain for RCPT TO postmaster@DOMAIN and the catch-all probe\n(default: the domain of the first --rcpt, else HOST without its first label)")
	tlsMode := fs.String("tls", "auto", "auto (STARTTLS when offered; implicit TLS on 465), starttls, implicit, or none")
	implicitTLS := fs.Bool("implicit-tls", false, "same as --tls implicit (TLS from the first byte, as on port 465)")
	startTLS := fs.Bool("starttls", false, "same as --tls starttls")
	authUser := fs.String("auth", "", "authenticate as USER with AUTH PLAIN, over TLS only; the password is read from\n$MXRAY_SMTP_PASSWORD (never from the command line) and never shown")
	noCatchAll := fs.Bool("no-catch-all", false, "do not try a random recipient")
	noVRFY := fs.Bool("no-vrfy", false, "do not ask VRFY postmaster at the end of the session")
	noRelay := fs.Bool("no-relay-test", false, "do not try the open-relay recipient")
	connectTimeout := fs.Duration("connect-timeout", 10*time.Second, "deadline for the TCP connection")
	commandTimeout := fs.Duration("command-timeout", 30*time.Second, "deadline for each reply (the greeting included)")
	if code, done := parseFlags(fs, stdio, "smtp", args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "smtp", "want exactly one HOST[:PORT], got %d arguments", fs.NArg())
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	if err := f.validate(); err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	host, port, err := splitHostPort(fs.Arg(0))
	if err != nil {
		return usageError(stdio, "smtp", "%v", err)
	}
	cfg := probe.Config{HELO: f.helo, From: f.from, Recipients: f.rcpts, NoCatchAll: *noCatchAll, NoRelayTest: *noRelay, NoVRFY: *noVRFY,
		ConnectTimeout: *connectTimeout, GreetingTimeout: *commandTimeout, CommandTimeout: *commandTimeout, SessionTimeout: g.timeout}
	switch {
	case *implicitTLS && *startTLS:
		return usageError(stdio, "smtp", "--implicit-tls and --starttls exclude each other")
	case *implicitTLS:
		*tlsMode = "implicit"
	case *startTLS:
		*tlsMode = "starttls"
	}
	switch *tlsMode {
	case "auto":
	case "starttls":
		cfg.Mode = probe.ModeSTARTTLS
	case "implicit":
		cfg.Mode = probe.ModeImplicitTLS
	case "none":
		cfg.Mode = probe.ModePlain
	default:
		return usageError(stdio, "smtp", "--tls %q: want auto, starttls, implicit or none", *tlsMode)
	}
	if *authUser != "" {
		pw := ""
		if stdio.Env != nil {
			pw = stdio.Env("MXRAY_SMTP_PASSWORD")
		}
		if pw == "" {
			return usageError(stdio, "smtp", "--auth needs the password in $MXRAY_SMTP_PASSWORD")
		}
		cfg.Auth = &probe.Credentials{Username: *authUser, Password: pw}
	}
	cfg.Domain = *domain
	if cfg.Domain == "" && len(f.rcpts) > 0 {
		cfg.Domain = f.rcpts[0][strings.LastIndexByte(f.rcpts[0], '@')+1:]
	}
	if cfg.Domain == "" {
		if _, err := netip.ParseAddr(host); err != nil {
			cfg.Domain = parentDomain(host)
		}
	}
	if port == 587 || port == 465 {
		cfg.NoMail = true // submission: no mail transaction without authentication
	}

	ctx, cancel := g.context(ctx)
	defer cancel()
	rep := report.New("smtp", fs.Arg(0), version, time.Now())
	sec := rep.Section("smtp", "SMTP dry run (no message is sent)")

	// The address: an IP literal as given, else the host's first address
	// from the resolver (the same resolver as every other check).
	var addr netip.Addr
	var ptr *dnscheck.PTRResult
	res, rerr := g.resolver()
	if a, err := netip.ParseAddr(host); err == nil {
		addr = a
	} else {
		if rerr != nil {
			fmt.Fprintf(stdio.Stderr, "mxray smtp: %v\n", rerr)
			return report.ExitUnknown
		}
		h := dnscheck.LookupHost(ctx, res, host)
		if len(h.Addrs) == 0 {
			sev := report.Failure
			if h.Failed() {
				sev = report.Unknown
			}
			sec.Add(report.Finding{ID: "smtp.host-no-address", Severity: sev, Subject: host,
				Summary:  host + " has no address to connect to",
				Evidence: []string{h.A.Describe(), h.AAAA.Describe()}})
			rep.Finish(time.Now())
			return g.render(stdio, rep)
		}
		addr = h.Addrs[0]
	}
	if rerr == nil {
		p := dnscheck.CheckPTR(ctx, res, addr)
		ptr = &p
	}
	s := probe.DryRun(ctx, cfg, probe.Target{Host: host, Addr: net.JoinHostPort(addr.String(), strconv.Itoa(port))})
	o := probe.FindingOptions{}
	if ptr != nil {
		o.PTRStatus = ptr.Status
		o.PTR = []string{}
		for _, n := range ptr.Names {
			o.PTR = append(o.PTR, n.Name)
		}
	}
	sec.Add(s.Findings(o)...)
	sec.Detail = &probe.Detail{Sessions: []*probe.Session{s}, ShowTranscript: f.transcript, ShowReplies: true}
	if tr, ok := any(res).(interface{ Trace() []report.Query }); ok && res != nil {
		rep.Trace = tr.Trace()
	}
	rep.Finish(time.Now())
	return g.render(stdio, rep)
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
