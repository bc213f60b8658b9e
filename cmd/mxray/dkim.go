package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/dkim"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "dkim", order: 40, summary: "DKIM key records of the given (or common) selectors, parsed and judged",
		usage: "mxray dkim DOMAIN [--selector S ...] [flags]", run: runDKIM})
	checkFlagHooks = append(checkFlagHooks, func(fs *pflag.FlagSet) func(cfg *check.Config) error {
		sels := fs.StringArray("selector", nil, "DKIM selector to check (repeatable; default: try a list of common selectors)")
		return func(cfg *check.Config) error {
			out, err := dkimSelectors(*sels)
			cfg.DKIM.Selectors = out
			return err
		}
	})
}

// dkimSelectors validates --selector values; "a,b" is accepted as two.
func dkimSelectors(in []string) ([]string, error) {
	var out []string
	for _, v := range in {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if err := dkim.ValidSelector(s); err != nil {
				return nil, fmt.Errorf("--selector: %v", err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func runDKIM(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("dkim", stdio, "mxray dkim DOMAIN [--selector S ...] [flags]",
		"Looks up the DKIM key record of each selector at S._domainkey.DOMAIN (following CNAME delegation, joining\n"+
			"split TXT strings) and judges it: version, key type (rsa, ed25519), RSA key size, revoked keys (empty p=),\n"+
			"t=y testing, t=s, s= and h=. Without --selector, "+fmt.Sprint(len(dkim.CommonSelectors))+" common selectors are tried at once; finding none of\n"+
			"them proves nothing, since selectors are arbitrary names (see the s= tag of a DKIM-Signature header).")
	g := addGlobalFlags(fs)
	sels := fs.StringArray("selector", nil, "DKIM selector to check (repeatable)")
	if code, done := parseFlags(fs, stdio, "dkim", args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "dkim", "want exactly one DOMAIN, got %d arguments", fs.NArg())
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "dkim", "%v", err)
	}
	domain, err := dnscheck.NormalizeDomain(fs.Arg(0))
	if err != nil {
		return usageError(stdio, "dkim", "%v", err)
	}
	selectors, err := dkimSelectors(*sels)
	if err != nil {
		return usageError(stdio, "dkim", "%v", err)
	}
	res, err := g.resolver()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray dkim: %v\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	rep := report.New("dkim", domain, version, time.Now())
	r := dkim.Lookup(ctx, res, domain, selectors)
	sec := rep.Section("dkim", "DKIM keys (RFC 6376, RFC 8463)")
	sec.Findings = r.Findings()
	sec.Detail = r
	rep.Trace = res.Trace()
	rep.Finish(time.Now())
	return g.render(stdio, rep)
}
