package check

// The report of `mxray smtp HOST[:PORT]` (and of mxray serve's SMTP page,
// API and /probe?module=smtp): one dry run on one mail host, with its
// transcript, timings and every reply explained. It is built in two
// steps so that a caller can judge the address before anything is sent
// (mxray serve refuses special-use addresses once the name is resolved):
// PlanHost finds the address, HostPlan.Report runs the session.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

// HostTarget is one mail host to probe and what only a one-host dry run
// sets (mxray smtp's flags). The session's other settings (HELO, MAIL
// FROM, recipients, TLS roots, timeouts, the dialer) come from the
// Config's SMTP options, as in a domain check.
type HostTarget struct {
	// Input is the target as given (HOST[:PORT]): the report's target.
	Input string
	// Host is a normalised name or an IP address, Port its port
	// (SplitHostPort).
	Host string
	Port int
	// Mode is the TLS mode; "": STARTTLS, implicit TLS on 465.
	Mode probe.Mode
	// Auth logs in with AUTH PLAIN over TLS (--auth).
	Auth *probe.Credentials
	// NoCatchAll, NoRelayTest, NoVRFY leave those probes out.
	NoCatchAll, NoRelayTest, NoVRFY bool
	// Domain is the mail domain of RCPT TO postmaster@ and the catch-all
	// probe; "": the domain of the first recipient, else Host without its
	// first label (none for an IP address).
	Domain string
	// Source, when valid, is the local address the session is opened
	// from (--source); the host's address is then one of its family.
	Source netip.Addr
}

// ErrNoAddrOfFamily: the host has no address of the --source address's
// family (IPv4 cannot reach IPv6).
var ErrNoAddrOfFamily = errors.New("no address of the source address's family")

// ErrNoResolver: the host is a name and there is no resolver to ask.
var ErrNoResolver = errors.New("no resolver to look the host up")

// HostPlan is a dry run ready to start: the host's address is known, or
// known to be missing.
type HostPlan struct {
	Target HostTarget
	// Addr is the address to connect to; invalid when NoAddress is set.
	Addr netip.Addr
	// NoAddress says that the host has no address (a failure) or that
	// its lookup failed (unknown): the report is this finding.
	NoAddress *report.Finding
}

// SMTPHost is the whole report of one dry run: PlanHost, then Report.
func SMTPHost(ctx context.Context, cfg Config, t HostTarget) (*report.Report, error) {
	p, err := PlanHost(ctx, cfg.Resolver, t)
	if err != nil {
		return nil, err
	}
	return p.Report(ctx, cfg), nil
}

// PlanHost finds the address to connect to: an IP literal as given, else
// the host's first address from the resolver (the same resolver as every
// other check) — of the family of t.Source, when one is given. res may be
// nil when the host is an IP address.
func PlanHost(ctx context.Context, res dnscheck.Resolver, t HostTarget) (*HostPlan, error) {
	p := &HostPlan{Target: t}
	if a, err := netip.ParseAddr(t.Host); err == nil {
		if !sameFamily(a, t.Source) {
			return nil, fmt.Errorf("%w: %s cannot be reached from %s", ErrNoAddrOfFamily, a, t.Source)
		}
		p.Addr = a
		return p, nil
	}
	if res == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoResolver, t.Host)
	}
	h := dnscheck.LookupHost(ctx, res, t.Host)
	if len(h.Addrs) == 0 {
		sev := report.Failure
		if h.Failed() {
			sev = report.Unknown
		}
		p.NoAddress = &report.Finding{ID: "smtp.host-no-address", Severity: sev, Subject: t.Host,
			Summary:  t.Host + " has no address to connect to",
			Evidence: []string{h.A.Describe(), h.AAAA.Describe()}}
		return p, nil
	}
	for _, a := range h.Addrs {
		if sameFamily(a, t.Source) {
			p.Addr = a
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %s has no %s address to reach from %s", ErrNoAddrOfFamily, t.Host,
		map[bool]string{true: "IPv4", false: "IPv6"}[t.Source.Is4()], t.Source)
}

// sameFamily: a can be reached from source (any address without one).
func sameFamily(a, source netip.Addr) bool {
	return !source.IsValid() || a.Unmap().Is4() == source.Is4()
}

// Report runs the session and returns the report: the session's findings
// (the banner compared with the address's reverse DNS, when there is a
// resolver to ask), its transcript and the DNS trace.
func (p *HostPlan) Report(ctx context.Context, cfg Config) *report.Report {
	env := &Env{Config: &cfg}
	rep := report.New("smtp", p.Target.Input, cfg.Version, env.Now())
	sec := rep.Section("smtp", "SMTP dry run (no message is sent)")
	if p.NoAddress != nil {
		sec.Add(*p.NoAddress)
	} else {
		s, findings := p.session(ctx, env)
		sec.Add(findings...)
		sec.Detail = &probe.Detail{Sessions: []*probe.Session{s}, ShowTranscript: cfg.SMTP.ShowTranscript, ShowReplies: true}
	}
	rep.Trace = traceOf(cfg.Resolver)
	rep.Finish(env.Now())
	return rep
}

// session runs the dry run and judges it.
func (p *HostPlan) session(ctx context.Context, env *Env) (*probe.Session, []report.Finding) {
	t := p.Target
	o := probe.FindingOptions{Now: env.Now()}
	if env.Config.Resolver != nil {
		ptrOptions(&o, dnscheck.CheckPTR(ctx, env.Config.Resolver, p.Addr))
	}
	s := probe.DryRun(ctx, p.probeConfig(env.Config), probe.Target{Host: t.Host, Addr: net.JoinHostPort(p.Addr.String(), strconv.Itoa(t.Port))})
	var out []report.Finding
	if t.Source.IsValid() {
		out = append(out, report.Finding{ID: "smtp.source", Severity: report.Info, Subject: t.Host,
			Summary:  "the session was opened from " + t.Source.String() + " (--source): the replies below are what " + t.Host + " says to that address",
			Evidence: []string{"local end of the connection: " + s.LocalAddr}})
	}
	return s, append(out, s.Findings(o)...)
}

// probeConfig is the domain check's session settings with the target's
// own: its TLS mode, login, probes left out, mail domain and source
// address. A submission port (587, 465) gets no mail transaction: without
// authentication it would only be refused.
func (p *HostPlan) probeConfig(cfg *Config) probe.Config {
	t := p.Target
	pc := cfg.probeConfig(hostMailDomain(t, cfg.SMTP.Recipients))
	pc.Mode, pc.Auth, pc.LocalAddr = t.Mode, t.Auth, t.Source
	pc.NoCatchAll, pc.NoRelayTest, pc.NoVRFY = t.NoCatchAll, t.NoRelayTest, t.NoVRFY
	if t.Port == 587 || t.Port == 465 {
		pc.NoMail = true
	}
	return pc
}

// hostMailDomain is t.Domain, else the domain of the first recipient,
// else the host without its first label (none for an IP address).
func hostMailDomain(t HostTarget, rcpts []string) string {
	switch {
	case t.Domain != "":
		return t.Domain
	case len(rcpts) > 0:
		return rcpts[0][strings.LastIndexByte(rcpts[0], '@')+1:]
	}
	if _, err := netip.ParseAddr(t.Host); err == nil {
		return ""
	}
	return parentDomain(t.Host)
}

// parentDomain drops the first label of a host with three labels or more
// (mx.example.com → example.com); a two-label name is its own domain.
func parentDomain(h string) string {
	if strings.Count(h, ".") >= 2 {
		return h[strings.IndexByte(h, '.')+1:]
	}
	return h
}

// ptrOptions carries the reverse DNS of the session's address into the
// banner check.
func ptrOptions(o *probe.FindingOptions, ptr dnscheck.PTRResult) {
	o.PTRStatus = ptr.Status
	o.PTR = []string{}
	for _, n := range ptr.Names {
		o.PTR = append(o.PTR, n.Name)
	}
}

// SplitHostPort reads HOST, HOST:PORT, IPv6 or [IPv6]:PORT (port 25 by
// default): the host is a normalised name (A-labels, no trailing dot) or
// an IP address.
func SplitHostPort(s string) (string, int, error) {
	if s == "" {
		return "", 0, errors.New("no host given")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String(), 25, nil
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
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String(), port, nil
	}
	n, err := dnscheck.NormalizeDomain(host)
	if err != nil {
		return "", 0, err
	}
	return n, port, nil
}

// traceOf is the DNS trace of a resolver that keeps one (a
// dnscheck.Client, alone or wrapped), nil for any other.
func traceOf(r dnscheck.Resolver) []report.Query {
	if t, ok := r.(interface{ Trace() []report.Query }); ok {
		return t.Trace()
	}
	return nil
}
