package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/httpsfetch"
	"github.com/mxray/mxray/internal/demoworld"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "demo", order: 90, summary: "a whole check of a healthy and a broken domain in a world built into mxray (no network)",
		usage: "mxray demo [DOMAIN] [--serve [--listen ADDR]] [flags]", run: runDemo})
}

func runDemo(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("demo", stdio, "mxray demo [DOMAIN] [--serve [--listen ADDR]] [flags]",
		"Checks the domains of a small world built into mxray — "+demoworld.Healthy+" (everything in order) and\n"+
			demoworld.Broken+" (every kind of problem) — served by an in-process DNS server, fake mail servers and an\n"+
			"HTTPS server on 127.0.0.1. Nothing is sent anywhere else. With --serve, the web page of 'mxray serve'\n"+
			"answers for the demo world only. The exit code is the worst of the reports (the broken domain fails).\n"+
			"--format json and nagios give one report: name a domain. --resolver is refused: the world has its own DNS.")
	g := addGlobalFlags(fs)
	asServer := fs.Bool("serve", false, "serve the demo world's web page instead of printing the reports")
	f := addServeFlags(fs, false)
	if code, done := parseFlags(fs, stdio, "demo", args); done {
		return code
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "demo", "%v", err)
	}
	domains := []string{demoworld.Healthy, demoworld.Broken}
	switch {
	case len(g.resolvers) > 0:
		return usageError(stdio, "demo", "--resolver: the demo world answers with its own DNS server, on 127.0.0.1")
	case fs.NArg() == 1 && (fs.Arg(0) == demoworld.Healthy || fs.Arg(0) == demoworld.Broken):
		domains = fs.Args()
	case fs.NArg() > 0:
		return usageError(stdio, "demo", "the demo world holds %s and %s, not %q", demoworld.Healthy, demoworld.Broken, fs.Args())
	case (g.format == "json" || g.format == "nagios") && !*asServer:
		return usageError(stdio, "demo", "--format %s gives one report (one plugin output for nagios): name %s or %s", g.format, demoworld.Healthy, demoworld.Broken)
	}
	w, err := demoworld.Start()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray demo: %v\n", err)
		return report.ExitUnknown
	}
	defer w.Close()
	if *asServer {
		f.timeout = g.timeout
		o, err := f.options()
		if err != nil {
			return usageError(stdio, "demo", "%v", err)
		}
		o.Demo = w.Serve
		return listenAndServe(ctx, stdio, "demo", f, o)
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	var reps []*report.Report
	for _, d := range domains {
		rep, err := demoCheck(ctx, w, d)
		if err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray demo: %v\n", err)
			return report.ExitUnknown
		}
		reps = append(reps, rep)
	}
	if len(reps) == 1 {
		return g.render(stdio, reps[0])
	}
	return renderDemo(stdio, g, reps)
}

// renderDemo writes both reports as one output (to --output, atomically,
// when given): text one after the other, Prometheus as one exposition
// holding both (a second exposition in the same body is invalid: each
// metric family is named once). The exit code is the worse of the two.
func renderDemo(stdio IO, g *globalFlags, reps []*report.Report) int {
	worst := report.ExitOK
	for _, rep := range reps {
		if !g.trace {
			rep.Trace = nil
		}
		worst = worseExit(worst, rep.ExitCode())
	}
	err := g.emit(stdio, func(w io.Writer) error {
		if g.format == "prometheus" {
			return report.WritePrometheus(w, reps...)
		}
		for i, rep := range reps {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := report.WriteText(w, rep, report.TextOptions{Color: g.output == "" && g.useColor(stdio), Trace: g.trace}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray demo: writing the report: %v\n", err)
		return report.ExitUnknown
	}
	return worst
}

// demoCheck is `mxray check DOMAIN` in the demo world.
func demoCheck(ctx context.Context, w *demoworld.World, domain string) (*report.Report, error) {
	sw := w.Serve
	res, err := dnscheck.NewClient(sw.Resolvers, sw.ResolverOptions)
	if err != nil {
		return nil, err
	}
	hc := httpsfetch.NewClient(httpsfetch.Options{Resolver: res, Dial: sw.Dial, RootCAs: sw.RootCAs})
	defer hc.CloseIdleConnections()
	cfg := sw.Check
	cfg.Resolver, cfg.Dial, cfg.HTTPClient, cfg.Version = res, sw.Dial, hc, version
	cfg.SMTP.TLS.RootCAs = sw.RootCAs
	return check.Domain(ctx, cfg, domain)
}
