package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"time"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/internal/demoworld"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/serve"
)

func init() {
	register(command{name: "serve", order: 80, summary: "the same reports as a web page, a JSON API and a Prometheus /probe",
		usage: "mxray serve [--listen ADDR] [--resolver ADDR] [--allow-target PATTERN] [--allow-private] [flags]", run: runServe})
}

// serveFlags are the flags of 'mxray serve' (and of 'mxray demo --serve').
type serveFlags struct {
	listen         string
	resolvers      []string
	timeout, grace time.Duration
	allowTargets   []string
	allowPrivate   bool
	trustedProxies []string
	trustedOrigins []string
	rate           float64
	burst          int
	maxChecks      int
	noDemo         bool
}

func addServeFlags(fs *pflag.FlagSet, withPolicy bool) *serveFlags {
	f := &serveFlags{}
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8025", "address to answer on (loopback by default; put a reverse proxy in front to expose it)")
	fs.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long reports in flight may finish before they are cut")
	fs.Float64Var(&f.rate, "rate", 30, "reports each client may ask for per minute (negative: no limit)")
	fs.IntVar(&f.burst, "burst", 10, "reports a client may ask for at once before --rate applies")
	fs.IntVar(&f.maxChecks, "max-checks", 16, "reports running at once; more get 429 Too Many Requests")
	fs.StringArrayVar(&f.trustedProxies, "trusted-proxy", nil, "CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable)")
	fs.StringArrayVar(&f.trustedOrigins, "trusted-origin", nil, "origin allowed to submit the forms besides the page's own, e.g. https://mxray.example.org (repeatable)")
	if withPolicy { // 'mxray demo' has these from its global flags, and a sealed world
		fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "deadline of one request (a whole domain check included)")
		fs.StringArrayVar(&f.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] to ask (repeatable; default: the nameservers of /etc/resolv.conf)")
		fs.StringArrayVar(&f.allowTargets, "allow-target", nil, "check only these targets: a DOMAIN (and names under it), an IP or a CIDR range (repeatable)")
		fs.BoolVar(&f.allowPrivate, "allow-private", false, "allow targets in private, loopback, link-local and other special-use ranges and names")
		fs.BoolVar(&f.noDemo, "no-demo", false, "do not serve the demo world under /demo/")
	}
	return f
}

// options turns the flags into serve.Options.
func (f *serveFlags) options() (serve.Options, error) {
	o := serve.Options{AllowPrivate: f.allowPrivate, AllowTargets: f.allowTargets, TrustedOrigins: f.trustedOrigins,
		RatePerMinute: f.rate, Burst: f.burst, MaxInFlight: f.maxChecks, Timeout: f.timeout, Version: version}
	if f.timeout <= 0 || f.grace < 0 {
		return o, fmt.Errorf("--timeout must be positive and --shutdown-grace not negative")
	}
	if f.rate == 0 {
		return o, fmt.Errorf("--rate 0 would refuse every report; use a negative rate for no limit")
	}
	for _, p := range f.trustedProxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return o, fmt.Errorf("--trusted-proxy %q: want a CIDR range or an address", p)
			}
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		o.TrustedProxies = append(o.TrustedProxies, pf)
	}
	return o, nil
}

func runServe(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("serve", stdio, "mxray serve [--listen ADDR] [--resolver ADDR] [--allow-target PATTERN] [--allow-private] [flags]",
		"Serves mxray's reports as a web page (a domain, a mail host, IPs, a pasted bounce), a JSON API\n"+
			"(/api/v1/check?domain=…, /api/v1/smtp?host=…, /api/v1/blocklist?target=…, POST /api/v1/explain) and\n"+
			"a Prometheus endpoint in the blackbox_exporter convention (/probe?module=check&target=…; /metrics).\n"+
			"Targets in private and other special-use ranges are refused, after resolution too, unless\n"+
			"--allow-private. The demo world (try the demo) is served under /demo/. Stops on SIGTERM.")
	f := addServeFlags(fs, true)
	helo := fs.String("helo", "", "name to say in EHLO/HELO (default: this machine's fully qualified name)")
	from := fs.String("from", "", "MAIL FROM address of the dry runs (default: the null sender <>)")
	lf := addDNSBLFlags(fs)
	lf.env = stdio.Env
	if code, done := parseFlags(fs, stdio, "serve", args); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "serve", "takes no arguments, got %q", fs.Args())
	}
	for _, r := range f.resolvers {
		if _, err := dnscheck.NormalizeServer(r); err != nil {
			return usageError(stdio, "serve", "%v", err)
		}
	}
	if err := (&smtpFlags{helo: *helo, from: *from}).validate(); err != nil {
		return usageError(stdio, "serve", "%v", err)
	}
	sel, err := lf.selection()
	if err != nil {
		return usageError(stdio, "serve", "%v", err)
	}
	o, err := f.options()
	if err != nil {
		return usageError(stdio, "serve", "%v", err)
	}
	servers := f.resolvers
	if len(servers) == 0 {
		if servers, err = dnscheck.SystemServers(""); err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray serve: %v (use --resolver ADDR)\n", err)
			return report.ExitUnknown
		}
	}
	o.World = &serve.World{Resolvers: servers, Check: check.Config{
		SMTP:  check.SMTPOptions{HELO: *helo, From: *from},
		DNSBL: check.DNSBLOptions{Selection: sel}}}
	if !f.noDemo {
		demo, err := demoworld.Start()
		if err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray serve: starting the demo world: %v\n", err)
			return report.ExitUnknown
		}
		defer demo.Close()
		o.Demo = demo.Serve
	}
	return listenAndServe(ctx, stdio, "serve", f, o)
}

// listenAndServe runs the server until ctx ends (SIGINT, SIGTERM).
func listenAndServe(ctx context.Context, stdio IO, name string, f *serveFlags, o serve.Options) int {
	o.ErrorLog = log.New(stdio.Stderr, "mxray "+name+": ", log.LstdFlags)
	srv, err := serve.New(o)
	if err != nil {
		return usageError(stdio, name, "%v", err)
	}
	l, err := net.Listen("tcp", f.listen)
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray %s: %v\n", name, err)
		return report.ExitUnknown
	}
	fmt.Fprintf(stdio.Stderr, "mxray %s: answering on http://%s/ (stop with Ctrl-C or SIGTERM)\n", name, l.Addr())
	if err := srv.Serve(ctx, l, f.grace); err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray %s: %v\n", name, err)
		return report.ExitUnknown
	}
	fmt.Fprintf(stdio.Stderr, "mxray %s: stopped\n", name)
	return report.ExitOK
}
