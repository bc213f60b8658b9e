package serve

// The reports the server makes. A domain check is check.Domain with
// OnPartDone streaming its parts; the SMTP dry run, the blocklist lookup
// and the explanation are the reports of `mxray smtp`, `mxray blocklist`
// and `mxray explain`, assembled by the same functions of package check
// (PlanHost and HostPlan.Report, Blocklist, Explain), so they give the
// same JSON documents: cmd/mxray's TestServeMatchesCLI compares them.
// What is the server's own is the policy (prepare judges an SMTP host's
// address before anything is sent), the guarded resolver and dialer, and
// the streaming.

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/httpsfetch"
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
	// writeJSON writes the finished report as the API's document; nil:
	// report.WriteJSON.
	writeJSON func(w io.Writer, rep *report.Report) error
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

// smtpJob is one dry run on HOST[:PORT], as `mxray smtp` does it
// (check.PlanHost, HostPlan.Report): the address is resolved and judged
// by the policy in prepare, before anything is sent.
func (e *worldEnv) smtpJob(t check.HostTarget) job {
	var res dnscheck.Resolver
	var plan *check.HostPlan
	j := job{command: "smtp", target: t.Input, parts: []string{"smtp"}}
	j.prepare = func(ctx context.Context) *reqError {
		var err error
		if _, res, err = e.resolver(0); err != nil {
			return &reqError{status: 500, msg: err.Error(), reason: "internal"}
		}
		if plan, err = check.PlanHost(ctx, res, t); err != nil {
			return &reqError{status: 500, msg: err.Error(), reason: "internal"}
		}
		if plan.NoAddress != nil {
			return nil
		}
		if err := e.p.checkHost(t.Host, plan.Addr, t.Port); err != nil {
			return refusedError(err)
		}
		return nil
	}
	j.run = func(ctx context.Context, emit emitFunc) (*report.Report, error) {
		cfg := e.checkConfig()
		cfg.Resolver = res
		cfg.SMTP.ShowTranscript = true
		rep := plan.Report(ctx, cfg)
		emit("smtp", rep.Sections)
		return rep, nil
	}
	return j
}

// blocklistJob looks targets up on the world's blocklists, as `mxray
// blocklist` does (check.Blocklist).
func (e *worldEnv) blocklistJob(targets []string) job {
	return job{command: "blocklist", target: check.BlocklistTitle(targets), parts: []string{"dnsbl"},
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			cfg := e.checkConfig()
			lists, _, err := dnsbl.Select(cfg.DNSBL.Selection)
			if err != nil {
				return nil, err
			}
			if _, cfg.Resolver, err = e.resolver(check.BlocklistInFlight(len(lists))); err != nil {
				return nil, err
			}
			rep := check.Blocklist(ctx, cfg, targets)
			emit("dnsbl", rep.Sections)
			return rep, nil
		}}
}
