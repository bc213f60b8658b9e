package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/internal/atomicfile"
	"github.com/mxray/mxray/report"
)

// globalFlags are the flags every command that reports takes.
type globalFlags struct {
	timeout   time.Duration
	resolvers []string
	format    string
	output    string
	trace     bool
	color     string
	// warning and critical are the Nagios -w/-c ranges on the days until the
	// earliest certificate expires.
	warning, critical string
	nagios            report.NagiosOptions
	// formats, when set, are the only formats the command writes: a
	// command that checks no host or domain (explain) has nothing for a
	// monitoring system to read.
	formats []string
}

func addGlobalFlags(fs *pflag.FlagSet) *globalFlags {
	g := &globalFlags{}
	fs.DurationVar(&g.timeout, "timeout", 60*time.Second, "deadline for the whole command")
	fs.StringArrayVar(&g.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] to ask (repeatable; default: the nameservers of /etc/resolv.conf)")
	fs.StringVar(&g.format, "format", "text", "output format: text, json, nagios (plugin output and exit code) or prometheus (text exposition)")
	fs.StringVar(&g.output, "output", "", "write the output to FILE atomically (temporary file + rename) instead of standard output, e.g. a *.prom file for node_exporter's textfile collector")
	fs.StringVarP(&g.warning, "warning", "w", "", "with --format nagios: WARNING when the days until the earliest TLS certificate expires fall outside this range (plugin range syntax, e.g. 21: = fewer than 21 days)")
	fs.StringVarP(&g.critical, "critical", "c", "", "with --format nagios: CRITICAL when the certificate days fall outside this range (e.g. 7:)")
	fs.BoolVar(&g.trace, "trace", false, "show every DNS query sent (name, type, server, rcode, answers, time)")
	fs.StringVar(&g.color, "color", "auto", "colour in text output: auto (only on a terminal, and not when NO_COLOR is set), always, never")
	return g
}

func (g *globalFlags) validate() error {
	formats := g.formats
	if formats == nil {
		formats = []string{"text", "json", "nagios", "prometheus"}
	}
	if !slices.Contains(formats, g.format) {
		return fmt.Errorf("--format %q: want %s", g.format, strings.Join(formats, ", "))
	}
	if err := g.validateThresholds(); err != nil {
		return err
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

// validateThresholds parses -w/-c, which only the Nagios output uses.
func (g *globalFlags) validateThresholds() error {
	if (g.warning != "" || g.critical != "") && g.format != "nagios" {
		return errors.New("-w/--warning and -c/--critical go with --format nagios")
	}
	for _, t := range []struct {
		flag, val string
		dst       **report.Range
	}{{"--warning", g.warning, &g.nagios.CertWarn}, {"--critical", g.critical, &g.nagios.CertCrit}} {
		if t.val == "" {
			continue
		}
		r, err := report.ParseRange(t.val)
		if err != nil {
			return fmt.Errorf("%s: %v", t.flag, err)
		}
		*t.dst = &r
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

// render writes the report in the chosen format (to --output, atomically,
// when given) and returns the exit code.
func (g *globalFlags) render(stdio IO, rep *report.Report) int {
	if !g.trace {
		rep.Trace = nil
	}
	code := rep.ExitCode()
	err := g.emit(stdio, func(w io.Writer) error {
		switch g.format {
		case "json":
			return report.WriteJSON(w, rep)
		case "nagios":
			var err error
			code, err = report.WriteNagios(w, rep, g.nagios)
			return err
		case "prometheus":
			return report.WritePrometheus(w, rep)
		}
		return report.WriteText(w, rep, report.TextOptions{Color: g.output == "" && g.useColor(stdio), Trace: g.trace})
	})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray: writing the report: %v\n", err)
		return report.ExitUnknown
	}
	return code
}

// emit runs write on standard output, or on --output written atomically.
func (g *globalFlags) emit(stdio IO, write func(io.Writer) error) error {
	if g.output == "" {
		return write(stdio.Stdout)
	}
	return atomicfile.Write(g.output, 0o644, write)
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
