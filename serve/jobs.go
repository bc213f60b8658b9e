package serve

// The reports the server makes. A domain check is check.Domain with
// OnPartDone streaming its parts; the SMTP dry run, the blocklist lookup
// and the explanation are assembled from the same functions as the
// commands `mxray smtp`, `mxray blocklist` and `mxray explain`
// (cmd/mxray), and give the same JSON documents: cmd/mxray's
// TestServeMatchesCLI compares them.

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/httpsfetch"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

// emitFunc receives a part's sections as soon as they are ready.
type emitFunc func(part string, sections []report.Section)

// job is one report: a command on a target.
type job struct {
	command string
	target  string
	// parts are what a page waits for, in report order.
	parts []string
	// prepare runs after admission and before any output (the SMTP
	// host's resolution and its address check); nil: nothing to do.
	prepare func(ctx context.Context) *reqError
	run     func(ctx context.Context, emit emitFunc) (*report.Report, error)
}

// worldEnv is a world as the server uses it: its policy and its guarded
// dialer.
type worldEnv struct {
	w    *World
	base string // URL prefix of the world's pages: "" or "/demo"
	p    policy
	// probePrivate lets a domain check connect to MX and MTA-STS hosts at
	// special-use addresses (--allow-private only: a sealed world's checks
	// skip them as they would on the internet).
	probePrivate bool
	dial         dialFunc
	version      string
	now          func() time.Time
}

// resolver is a fresh client for one report (its own cache and trace),
// behind the policy.
func (e *worldEnv) resolver(maxInFlight int) (*dnscheck.Client, dnscheck.Resolver, error) {
	o := e.w.ResolverOptions
	if maxInFlight > 0 {
		o.MaxInFlight = maxInFlight
	}
	c, err := dnscheck.NewClient(e.w.Resolvers, o)
	if err != nil {
		return nil, nil, err
	}
	return c, guardedResolver{Client: c, p: e.p}, nil
}

// checkRequest is a domain check as asked.
type checkRequest struct {
	domain     string
	only, skip []string
	ip         netip.Addr
	sender     string
}

// checkConfig is the world's check template with what every report of
// this world shares: the guarded dialer, the TLS roots, whether special-use
// addresses may be dialed, the clock and the version. The resolver is set
// per report.
func (e *worldEnv) checkConfig() check.Config {
	cfg := e.w.Check
	cfg.Dial, cfg.Version = e.dial, e.version
	cfg.SMTP.AllowSpecialUse = e.probePrivate
	if e.w.RootCAs != nil {
		cfg.SMTP.TLS.RootCAs = e.w.RootCAs
	}
	if e.now != nil {
		cfg.Now = e.now
	}
	return cfg
}

func (e *worldEnv) checkJob(req checkRequest) job {
	cfg := e.checkConfig()
	if len(req.only)+len(req.skip) > 0 {
		cfg.Only, cfg.Skip = req.only, req.skip
	}
	cfg.SendingIP, cfg.Sender = req.ip, req.sender
	return job{command: "check", target: req.domain, parts: check.EnabledParts(cfg),
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			_, res, err := e.resolver(0)
			if err != nil {
				return nil, err
			}
			hc := httpsfetch.NewClient(httpsfetch.Options{Resolver: res, Dial: e.dial, RootCAs: e.w.RootCAs, AllowSpecialUse: e.probePrivate})
			defer hc.CloseIdleConnections()
			cfg.Resolver, cfg.HTTPClient = res, hc
			cfg.OnPartDone = emit
			return check.Domain(ctx, cfg, req.domain)
		}}
}

// smtpJob is one dry run on HOST[:PORT], as `mxray smtp` does it: the
// host's first address, its reverse DNS for the banner comparison, the
// session and its findings. The address is resolved and judged by the
// policy in prepare, before anything is sent.
func (e *worldEnv) smtpJob(input, host string, port int) job {
	var client *dnscheck.Client
	var res dnscheck.Resolver
	var addr netip.Addr
	var noAddr *report.Finding
	j := job{command: "smtp", target: input, parts: []string{"smtp"}}
	j.prepare = func(ctx context.Context) *reqError {
		var err error
		if client, res, err = e.resolver(0); err != nil {
			return &reqError{status: 500, msg: err.Error(), reason: "internal"}
		}
		addr, noAddr = resolveHost(ctx, res, host)
		if noAddr != nil {
			return nil
		}
		if err := e.p.checkHost(host, addr, port); err != nil {
			return refusedError(err)
		}
		return nil
	}
	j.run = func(ctx context.Context, emit emitFunc) (*report.Report, error) {
		rep := report.New("smtp", input, e.version, e.clock())
		sec := rep.Section("smtp", "SMTP dry run (no message is sent)")
		if noAddr != nil {
			sec.Add(*noAddr)
		} else {
			o := ptrOptions(ctx, res, addr)
			s := probe.DryRun(ctx, e.probeConfig(host, port), probe.Target{Host: host, Addr: net.JoinHostPort(addr.String(), strconv.Itoa(port))})
			sec.Add(s.Findings(o)...)
			sec.Detail = &probe.Detail{Sessions: []*probe.Session{s}, ShowTranscript: true, ShowReplies: true}
		}
		rep.Trace = client.Trace()
		rep.Finish(e.clock())
		emit("smtp", rep.Sections)
		return rep, nil
	}
	return j
}

func (e *worldEnv) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// probeConfig is the dry run of `mxray smtp` with the world's SMTP
// options: the mail domain is the host's parent, and submission ports
// stop after EHLO and STARTTLS.
func (e *worldEnv) probeConfig(host string, port int) probe.Config {
	o := e.w.Check.SMTP
	cfg := probe.Config{Dial: e.dial, HELO: o.HELO, From: o.From, ProbeSender: o.ProbeSender, TLS: o.TLS,
		ConnectTimeout: o.ConnectTimeout, GreetingTimeout: o.GreetingTimeout, CommandTimeout: o.CommandTimeout,
		SessionTimeout: o.SessionTimeout, Now: e.now}
	if e.w.RootCAs != nil {
		cfg.TLS.RootCAs = e.w.RootCAs
	}
	if _, err := netip.ParseAddr(host); err != nil {
		cfg.Domain = parentDomain(host)
	}
	if port == 465 || port == 587 {
		cfg.NoMail = true // submission: no mail transaction without authentication
	}
	return cfg
}

// resolveHost is the address to connect to: an IP literal as given,
// else the host's first address; a host without one gets the finding of
// `mxray smtp`.
func resolveHost(ctx context.Context, res dnscheck.Resolver, host string) (netip.Addr, *report.Finding) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	h := dnscheck.LookupHost(ctx, res, host)
	if len(h.Addrs) == 0 {
		sev := report.Failure
		if h.Failed() {
			sev = report.Unknown
		}
		return netip.Addr{}, &report.Finding{ID: "smtp.host-no-address", Severity: sev, Subject: host,
			Summary:  host + " has no address to connect to",
			Evidence: []string{h.A.Describe(), h.AAAA.Describe()}}
	}
	return h.Addrs[0], nil
}

// ptrOptions carry the reverse DNS of addr for the banner check.
func ptrOptions(ctx context.Context, res dnscheck.Resolver, addr netip.Addr) probe.FindingOptions {
	ptr := dnscheck.CheckPTR(ctx, res, addr)
	o := probe.FindingOptions{PTRStatus: ptr.Status, PTR: []string{}}
	for _, n := range ptr.Names {
		o.PTR = append(o.PTR, n.Name)
	}
	return o
}

// parentDomain drops the first label of a host with three labels or more
// (mx.example.com → example.com), as `mxray smtp` does.
func parentDomain(h string) string {
	if strings.Count(h, ".") >= 2 {
		return h[strings.IndexByte(h, '.')+1:]
	}
	return h
}

// blocklistJob looks targets up on the world's blocklists, as `mxray
// blocklist` does.
func (e *worldEnv) blocklistJob(targets []string) job {
	title := strings.Join(targets, " ")
	if len(targets) > 3 {
		title = strings.Join(targets[:3], " ") + " and " + strconv.Itoa(len(targets)-3) + " more"
	}
	return job{command: "blocklist", target: title, parts: []string{"dnsbl"},
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			sel := e.w.Check.DNSBL.Selection
			lists, skipped, err := dnsbl.Select(sel)
			if err != nil {
				return nil, err
			}
			client, res, err := e.resolver(blocklistInFlight(len(lists)))
			if err != nil {
				return nil, err
			}
			rep := report.New("blocklist", title, e.version, e.clock())
			sec := report.Section{ID: "dnsbl", Title: "Blocklists (DNSBL, RFC 5782)"}
			r := dnsbl.NewChecker(res, dnsbl.Options{Servers: client.Servers()}).Check(ctx, lists, targets)
			r.Skipped = append(r.Skipped, skipped...)
			sec.Add(r.Findings()...)
			sec.Detail = r
			rep.Sections = append(rep.Sections, sec)
			rep.Trace = redactDQS(client.Trace(), sel.DQSKey)
			rep.Finish(e.clock())
			emit("dnsbl", rep.Sections)
			return rep, nil
		}}
}

// blocklistInFlight is `mxray blocklist`'s bound on queries in flight:
// one round of queries (3 per list), between 64 and 256.
func blocklistInFlight(lists int) int {
	return min(max(3*lists+16, 64), 256)
}

// redactDQS keeps a Spamhaus DQS key, a credential, out of the trace.
func redactDQS(trace []report.Query, key string) []report.Query {
	if key = strings.ToLower(key); key != "" {
		for i := range trace {
			trace[i].Name = strings.ReplaceAll(trace[i].Name, key+".", "<dqs-key>.")
		}
	}
	return trace
}
