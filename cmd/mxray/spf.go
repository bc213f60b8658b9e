package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "spf", order: 20, summary: "the SPF record, its include tree with lookup counts, and the result for an IP",
		usage: "mxray spf DOMAIN [--ip IP] [--sender ADDR] [--helo NAME] [flags]", run: runSPF})
	checkFlagHooks = append(checkFlagHooks, func(fs *pflag.FlagSet) func(cfg *check.Config) error {
		noMX := fs.Bool("spf-no-mx", false, "do not evaluate the MX hosts' addresses against the domain's SPF record")
		helo := fs.String("spf-helo", "", "HELO name for the SPF evaluation of --ip (default: the domain)")
		return func(cfg *check.Config) error {
			cfg.SPF.NoMX = *noMX
			if *helo != "" {
				if _, err := dnscheck.NormalizeDomain(*helo); err != nil {
					return fmt.Errorf("--spf-helo: %v", err)
				}
				cfg.SPF.HELO = *helo
			}
			return nil
		}
	})
}

func runSPF(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("spf", stdio, "mxray spf DOMAIN [--ip IP] [--sender ADDR] [--helo NAME] [flags]",
		"Fetches the SPF record of DOMAIN and every record it includes or redirects to, shows the tree with the\n"+
			"DNS lookups and void lookups counted as RFC 7208 §4.6.4 counts them, lints every record, and with --ip\n"+
			"runs check_host() for that address: the result (pass, fail, softfail, neutral, none, temperror,\n"+
			"permerror), the term that decided it and the reason.")
	g := addGlobalFlags(fs)
	ip := fs.String("ip", "", "the client IP address to evaluate (also checked on the blocklists)")
	bf := addDNSBLFlags(fs)
	bf.env = stdio.Env
	sender := fs.String("sender", "", "the MAIL FROM address for the %{s}, %{l} and %{o} macros (default postmaster@DOMAIN); DOMAIN is the domain checked")
	helo := fs.String("helo", "", "the HELO/EHLO name (default DOMAIN); used for %{h} and, with --sender '<>', as the checked domain")
	if code, done := parseFlags(fs, stdio, "spf", args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "spf", "want exactly one DOMAIN, got %d arguments", fs.NArg())
	}
	sel, err := bf.selection()
	if err != nil {
		return usageError(stdio, "spf", "%v", err)
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "spf", "%v", err)
	}
	domain, err := dnscheck.NormalizeDomain(fs.Arg(0))
	if err != nil {
		return usageError(stdio, "spf", "%v", err)
	}
	var addr netip.Addr
	if *ip != "" {
		if addr, err = netip.ParseAddr(*ip); err != nil || addr.Zone() != "" {
			return usageError(stdio, "spf", "--ip %q is not an IP address", *ip)
		}
		addr = addr.Unmap()
	}
	nullSender := *sender == "<>"
	if *sender != "" && !nullSender {
		_, dom, ok := strings.Cut(*sender, "@")
		if !ok || strings.Contains(dom, "@") {
			return usageError(stdio, "spf", "--sender %q is not an address (want local@domain, or '<>' for the null sender)", *sender)
		}
		if _, err := dnscheck.NormalizeDomain(dom); err != nil {
			return usageError(stdio, "spf", "--sender: %v", err)
		}
	}
	heloName := domain
	if *helo != "" {
		if heloName, err = dnscheck.NormalizeDomain(*helo); err != nil {
			return usageError(stdio, "spf", "--helo: %v", err)
		}
	}
	if (*sender != "" || *helo != "") && !addr.IsValid() {
		return usageError(stdio, "spf", "--sender and --helo need --ip (the address to evaluate)")
	}
	res, err := g.resolver()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray spf: %v\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	rep := report.New("spf", domain, version, time.Now())
	// The blocklist status of --ip is part of "may this IP send": checked
	// beside the SPF evaluation, not after it.
	var bl chan report.Section
	if addr.IsValid() {
		bl = make(chan report.Section, 1)
		go func() { bl <- check.BlocklistSection(ctx, res, sel, []string{addr.String()}) }()
	}
	c := spf.Analyze(ctx, res, domain)
	sec := rep.Section("spf", "SPF (RFC 7208)")
	sec.Findings = append(sec.Findings, c.Findings...)
	sec.Detail = c
	if addr.IsValid() {
		var ev spf.Evaluation
		switch {
		case nullSender:
			// RFC 7208 §2.4: a null sender is checked as postmaster@HELO.
			ev = spf.CheckHost(ctx, res, addr, heloName, "", heloName)
		case *sender != "":
			ev = c.Evaluate(ctx, res, addr, *sender, heloName)
		default:
			ev = c.Evaluate(ctx, res, addr, "", heloName)
		}
		ev.Subject = "--ip"
		c.Evaluations = append(c.Evaluations, ev)
		sec.Findings = append(sec.Findings, ev.EvaluationFinding(true))
		rep.Sections = append(rep.Sections, <-bl)
	}
	rep.Trace = res.Trace()
	rep.Finish(time.Now())
	return g.render(stdio, rep)
}
