package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "check", order: 10, summary: "the whole health report of a mail domain", usage: "mxray check DOMAIN [flags]", run: runCheck})
}

// checkFlagHooks let other files add flags to 'mxray check' and copy them
// into the check's Config (SPF, policy, SMTP, DNSBL options).
var checkFlagHooks []func(fs *pflag.FlagSet) func(cfg *check.Config) error

func runCheck(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("check", stdio, "mxray check DOMAIN [flags]",
		"Checks a mail domain: MX and mail hosts, reverse DNS, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, BIMI, DANE,\n"+
			"live SMTP and blocklists. Parts: "+strings.Join(check.Parts(), ", ")+".")
	g := addGlobalFlags(fs)
	only := fs.StringSlice("only", nil, "run only these parts (comma-separated)")
	skip := fs.StringSlice("skip", nil, "skip these parts (comma-separated), e.g. --skip smtp")
	ip := fs.String("ip", "", "a sending IP address to judge: SPF result, DMARC alignment and blocklists for it")
	sender := fs.String("sender", "", "the MAIL FROM address used with --ip (default postmaster@DOMAIN)")
	var apply []func(cfg *check.Config) error
	for _, h := range checkFlagHooks {
		apply = append(apply, h(fs))
	}
	if code, done := parseFlags(fs, stdio, "check", args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "check", "want exactly one DOMAIN, got %d arguments", fs.NArg())
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	domain, err := dnscheck.NormalizeDomain(fs.Arg(0))
	if err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	if err := check.ValidatePartIDs(append(append([]string{}, *only...), *skip...)); err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	res, err := g.resolver()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v\n", err)
		return report.ExitUnknown
	}
	cfg := check.Config{Resolver: res, Only: *only, Skip: *skip, Version: version, Sender: *sender}
	if *ip != "" {
		a, err := netip.ParseAddr(*ip)
		if err != nil {
			return usageError(stdio, "check", "--ip %q is not an IP address", *ip)
		}
		cfg.SendingIP = a.Unmap()
	}
	if *sender != "" {
		at := strings.LastIndexByte(*sender, '@')
		if at <= 0 {
			return usageError(stdio, "check", "--sender %q is not an address (want local@domain)", *sender)
		}
		d, err := dnscheck.NormalizeDomain((*sender)[at+1:])
		if err != nil {
			return usageError(stdio, "check", "--sender %q: %v", *sender, err)
		}
		cfg.Sender = (*sender)[:at+1] + d
	}
	for _, a := range apply {
		if err := a(&cfg); err != nil {
			return usageError(stdio, "check", "%v", err)
		}
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	rep, err := check.Domain(ctx, cfg, domain)
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v\n", err)
		return report.ExitUnknown
	}
	return g.render(stdio, rep)
}
