package check

// The spf part: the domain's SPF record tree, linted (spf.Analyze),
// then check_host() for every address of every MX host — a server that
// receives mail often sends it too (bounces, forwards), so its result is
// reported as info, not judged — and, when the user names a sending IP
// (--ip, with --sender), for that IP, judged.

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/mxray/mxray/report"
)

// SPFOptions configures the spf part of the domain check.
type SPFOptions struct {
	// NoMX turns off the evaluation of the MX hosts' addresses (--spf-no-mx).
	NoMX bool
	// HELO is the HELO name used with Config.SendingIP (--spf-helo);
	// default: the domain.
	HELO string
	// MaxMXAddrs bounds the MX addresses evaluated (default 16).
	MaxMXAddrs int
}

func init() {
	Register(Part{ID: "spf", Order: 20, Run: runSPF})
}

type spfJob struct {
	ip      netip.Addr
	sender  string
	helo    string
	subject string
	judged  bool
}

// runSPF returns the "spf" section and, for other parts (DMARC alignment),
// the *spf.Check.
func runSPF(ctx context.Context, env *Env) ([]report.Section, any) {
	cfg := env.Config
	c := spf.Analyze(ctx, cfg.Resolver, env.Domain)
	sec := report.Section{ID: "spf", Title: "SPF (RFC 7208)", Findings: c.Findings, Detail: c}

	var jobs []spfJob
	if cfg.SendingIP.IsValid() {
		sender := cfg.Sender
		if sender == "" {
			sender = "postmaster@" + env.Domain
		}
		helo := cfg.SPF.HELO
		if helo == "" {
			helo = env.Domain
		}
		jobs = append(jobs, spfJob{ip: cfg.SendingIP.Unmap(), sender: sender, helo: helo, subject: "--ip", judged: true})
	}
	if !cfg.SPF.NoMX && c.Status == "ok" {
		if mx, ok := env.MX(ctx); ok {
			limit := cfg.SPF.MaxMXAddrs
			if limit <= 0 {
				limit = 16
			}
			seen := map[netip.Addr]bool{}
			for _, h := range mx.Hosts {
				for _, a := range h.Addrs {
					if seen[a] || len(seen) >= limit {
						continue
					}
					seen[a] = true
					jobs = append(jobs, spfJob{ip: a, sender: "postmaster@" + env.Domain, helo: h.Name, subject: "MX " + h.Name})
				}
			}
		}
	}
	evs := make([]spf.Evaluation, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := senderDomain(j.sender); d != "" && !strings.EqualFold(d, env.Domain) {
				// The sender is at another domain (a bounce domain, an
				// ESP's return path): check_host() checks the MAIL FROM
				// domain (RFC 7208 §2.4), which is what DMARC aligns.
				evs[i] = spf.CheckHost(ctx, cfg.Resolver, j.ip, d, j.sender, j.helo)
			} else {
				evs[i] = c.Evaluate(ctx, cfg.Resolver, j.ip, j.sender, j.helo)
			}
			evs[i].Subject = j.subject
		}()
	}
	wg.Wait()
	c.Evaluations = evs
	for i, e := range evs {
		sec.Findings = append(sec.Findings, e.EvaluationFinding(jobs[i].judged))
	}
	return []report.Section{sec}, c
}

func senderDomain(sender string) string {
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		return strings.TrimSuffix(sender[i+1:], ".")
	}
	return ""
}
