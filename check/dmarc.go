package check

// The dmarc part: the DMARC policy of the domain under RFC 9989 (DNS tree
// walk) and RFC 7489 (Public Suffix List), judged, with external report
// destinations verified; and, when a sending IP is given (--ip, --sender),
// whether its SPF result would count for DMARC (SPF pass and alignment).

import (
	"context"
	"strings"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/mxray/mxray/dnscheck/dmarc"

	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "dmarc", Order: 30, Run: runDMARC})
}

// runDMARC returns the "dmarc" section and the *dmarc.Result.
func runDMARC(ctx context.Context, env *Env) ([]report.Section, any) {
	cfg := env.Config
	d := dmarc.Lookup(ctx, cfg.Resolver, env.Domain)
	if cfg.SendingIP.IsValid() && d.Record != nil {
		ev, ok := sendingEvaluation(ctx, env)
		if !ok || !strings.EqualFold(ev.Domain, domainOf(senderOf(env))) {
			// The spf part is skipped, or it evaluated the checked domain's
			// record rather than the MAIL FROM domain's: DMARC needs the SPF
			// result of the RFC5321.MailFrom domain, so evaluate it here.
			ev = spf.CheckHost(ctx, cfg.Resolver, cfg.SendingIP, "", senderOf(env), heloOf(env))
		}
		a := dmarc.AlignSPF(ctx, cfg.Resolver, env.Domain, d.OrgDomain, d.OrgKnown, mailFromDomain(ev), string(ev.Result), d.Record.ASPF == "s")
		d.Alignment = &a
	}
	return []report.Section{{ID: "dmarc", Title: "DMARC (RFC 9989, RFC 7489)", Findings: d.Findings(), Detail: d}}, d
}

// sendingEvaluation finds the spf part's evaluation of the sending IP.
func sendingEvaluation(ctx context.Context, env *Env) (spf.Evaluation, bool) {
	v, ok := env.Await(ctx, "spf")
	if !ok {
		return spf.Evaluation{}, false
	}
	c, ok := v.(*spf.Check)
	if !ok || c == nil {
		return spf.Evaluation{}, false
	}
	for _, e := range c.Evaluations {
		if e.IP == env.Config.SendingIP.Unmap() && e.Subject == "--ip" {
			return e, true
		}
	}
	for _, e := range c.Evaluations {
		if e.IP == env.Config.SendingIP.Unmap() {
			return e, true
		}
	}
	return spf.Evaluation{}, false
}

func senderOf(env *Env) string {
	if env.Config.Sender != "" {
		return env.Config.Sender
	}
	return "postmaster@" + env.Domain
}

func heloOf(env *Env) string {
	if env.Config.SPF.HELO != "" {
		return env.Config.SPF.HELO
	}
	return env.Domain
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.TrimSuffix(addr[i+1:], ".")
	}
	return ""
}

// mailFromDomain is the RFC5321.MailFrom domain SPF evaluated: DMARC aligns
// that one, never the HELO (RFC 9989 "SPF-Authenticated Identifiers").
func mailFromDomain(ev spf.Evaluation) string {
	if ev.Domain != "" {
		return ev.Domain
	}
	return domainOf(ev.Sender)
}
