package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// globalFlags are the flags every command that reports takes.
type globalFlags struct {
	timeout   time.Duration
	resolvers []string
	format    string
	trace     bool
	color     string
}

func addGlobalFlags(fs *pflag.FlagSet) *globalFlags {
	g := &globalFlags{}
	fs.DurationVar(&g.timeout, "timeout", 60*time.Second, "deadline for the whole command")
	fs.StringArrayVar(&g.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] to ask (repeatable; default: the nameservers of /etc/resolv.conf)")
	fs.StringVar(&g.format, "format", "text", "output format: text or json")
	fs.BoolVar(&g.trace, "trace", false, "show every DNS query sent (name, type, server, rcode, answers, time)")
	fs.StringVar(&g.color, "color", "auto", "colour in text output: auto (only on a terminal, and not when NO_COLOR is set), always, never")
	return g
}

func (g *globalFlags) validate() error {
	switch g.format {
	case "text", "json":
	default:
		return fmt.Errorf("--format %q: want text or json", g.format)
	}
	switch g.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color %q: want auto, always or never", g.color)
	}
	if g.timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	for _, r := range g.resolvers {
		if _, err := dnscheck.NormalizeServer(r); err != nil {
			return err
		}
	}
	return nil
}

// resolver builds the DNS client: --resolver, or /etc/resolv.conf.
func (g *globalFlags) resolver() (*dnscheck.Client, error) {
	return g.resolverWith(dnscheck.Options{})
}

// resolverWith is resolver with options (the bound on queries in flight).
func (g *globalFlags) resolverWith(opt dnscheck.Options) (*dnscheck.Client, error) {
	servers := g.resolvers
	if len(servers) == 0 {
		var err error
		if servers, err = dnscheck.SystemServers(""); err != nil {
			return nil, fmt.Errorf("%w (use --resolver ADDR)", err)
		}
	}
	return dnscheck.NewClient(servers, opt)
}

func (g *globalFlags) context(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}

// render writes the report in the chosen format and returns the exit code.
func (g *globalFlags) render(stdio IO, rep *report.Report) int {
	if !g.trace {
		rep.Trace = nil
	}
	var err error
	if g.format == "json" {
		err = report.WriteJSON(stdio.Stdout, rep)
	} else {
		err = report.WriteText(stdio.Stdout, rep, report.TextOptions{Color: g.useColor(stdio), Trace: g.trace})
	}
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray: writing the report: %v\n", err)
		return report.ExitUnknown
	}
	return rep.ExitCode()
}

func (g *globalFlags) useColor(stdio IO) bool {
	switch g.color {
	case "always":
		return true
	case "never":
		return false
	}
	if stdio.Env != nil && stdio.Env("NO_COLOR") != "" {
		return false
	}
	f, ok := stdio.Stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newFlagSet makes a pflag set that reports errors instead of exiting.
func newFlagSet(name string, stdio IO, usageLine, description string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stdio.Stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stdio.Stdout, "Usage: %s\n\n%s\n\nFlags:\n%s%s", usageLine, description, fs.FlagUsages(), exitCodeHelp)
	}
	return fs
}

// parseFlags parses args; it returns (exit code, done) when the command should end now.
func parseFlags(fs *pflag.FlagSet, stdio IO, name string, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return report.ExitOK, true
		}
		return usageError(stdio, name, "%v", err), true
	}
	return 0, false
}
