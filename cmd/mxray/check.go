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
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/state"
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
	var sf stateFlags
	fs.StringVar(&sf.path, "state", "", "keep the last known state of the findings in FILE (written atomically) and compare each run with it")
	fs.BoolVar(&sf.changes, "changes", false, "with --state: print only what appeared, worsened, improved or cleared since the last run; nothing when nothing changed, one line on the first run (for cron)")
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
	if err := sf.load(g, domain); err != nil {
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
	if sf.path == "" {
		return g.render(stdio, rep)
	}
	return sf.run(stdio, g, rep)
}

// stateFlags are --state and --changes, and the state they read.
type stateFlags struct {
	path    string
	changes bool
	prev    *state.State
}

// load checks the flags and reads the state file before the check runs,
// so that a bad state file costs no check.
func (sf *stateFlags) load(g *globalFlags, domain string) error {
	switch {
	case sf.changes && sf.path == "":
		return errors.New("--changes needs --state FILE")
	case sf.changes && g.format != "text" && g.format != "json":
		return fmt.Errorf("--changes prints changes as text or json, not %s (which always describe the whole state)", g.format)
	case sf.changes && g.output != "":
		return errors.New("--changes writes to standard output (nothing when nothing changed); drop --output")
	case sf.path == "":
		return nil
	}
	var err error
	sf.prev, err = state.Load(sf.path, "check", domain)
	return err
}

// run compares the report with the state, prints the changes (or the
// whole report without --changes), then saves the new state. The exit
// code is the current state's, as without --state.
func (sf *stateFlags) run(stdio IO, g *globalFlags, rep *report.Report) int {
	changes, next := state.Compare(sf.prev, rep, time.Now())
	code := rep.ExitCode()
	if sf.changes {
		if err := sf.printChanges(stdio, g, rep, changes); err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray check: writing the changes: %v\n", err)
			return report.ExitUnknown
		}
	} else {
		code = g.render(stdio, rep)
	}
	saved := *rep
	saved.Trace = nil
	next.Report = &saved
	if err := state.Save(sf.path, next); err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: the state was not saved: %v\n", err)
		if code != report.ExitFailure {
			code = report.ExitUnknown
		}
	}
	return code
}

func (sf *stateFlags) printChanges(stdio IO, g *globalFlags, rep *report.Report, changes []state.Change) error {
	if g.format == "json" {
		return state.WriteChangesJSON(stdio.Stdout, rep, sf.prev, changes)
	}
	if sf.prev == nil {
		return state.WriteFirstRun(stdio.Stdout, rep, sf.path)
	}
	return state.WriteChanges(stdio.Stdout, rep, sf.prev, changes)
}
