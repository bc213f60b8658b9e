package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/internal/atomicfile"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/state"
)

func init() {
	register(command{name: "check", order: 10, summary: "the whole health report of a mail domain (or of a list: --domains)",
		usage: "mxray check DOMAIN [flags] | mxray check --domains FILE|- [flags]", run: runCheck})
}

// checkFlagHooks let other files add flags to 'mxray check' and copy them
// into the check's Config (SPF, policy, SMTP, DNSBL options).
var checkFlagHooks []func(fs *pflag.FlagSet) func(cfg *check.Config) error

// bulkFlags are the flags of a run over a list of domains.
type bulkFlags struct {
	domains     string
	concurrency int
	shard       string
	shards      int
	smtpSpacing time.Duration
	dnsInFlight int
	exitZero    bool

	shardOf check.Shard // --shard and --shards, parsed by validate
}

func addBulkFlags(fs *pflag.FlagSet) *bulkFlags {
	b := &bulkFlags{}
	fs.StringVar(&b.domains, "domains", "", "check every domain of FILE (- for standard input): one a line, # comments, or the first column of a CSV; --format json writes JSON Lines, text a summary table; --timeout is then each domain's deadline")
	fs.IntVar(&b.concurrency, "concurrency", check.DefaultConcurrency, "with --domains: how many domains are checked at once")
	fs.StringVar(&b.shard, "shard", "", "with --domains: check only share i of n of the list (i/n, 0 ≤ i < n, by a hash of each domain), or auto: i from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	fs.IntVar(&b.shards, "shards", 0, "with --shard auto: the number of shards n (default: $"+check.ShardCountEnv+")")
	fs.DurationVar(&b.smtpSpacing, "smtp-spacing", time.Second, "with --domains: least time between two SMTP sessions to one IP address (one at a time always)")
	fs.IntVar(&b.dnsInFlight, "dns-in-flight", 0, "most DNS queries in flight to the resolver (default 64; 256 with --domains)")
	fs.BoolVar(&b.exitZero, "exit-zero", false, "with --domains: exit 0 when every domain was checked and the output written, whatever the findings (for batch engines that retry a task that exits non-zero); 3 when the run itself failed")
	return b
}

func runCheck(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("check", stdio, "mxray check DOMAIN [flags]\n       mxray check --domains FILE|- [flags]",
		"Checks a mail domain: MX and mail hosts, reverse DNS, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, BIMI, DANE,\n"+
			"live SMTP and blocklists. Parts: "+strings.Join(check.Parts(), ", ")+".\n"+
			"With --domains, checks every domain of a list with one shared DNS cache and one SMTP connection per IP.")
	g := addGlobalFlags(fs)
	only := fs.StringSlice("only", nil, "run only these parts (comma-separated)")
	skip := fs.StringSlice("skip", nil, "skip these parts (comma-separated), e.g. --skip smtp")
	ip := fs.String("ip", "", "a sending IP address to judge: SPF result, DMARC alignment and blocklists for it")
	sender := fs.String("sender", "", "the MAIL FROM address used with --ip (default postmaster@DOMAIN)")
	bulk := addBulkFlags(fs)
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
	if err := validateCheckArgs(fs, g, bulk, stdio.Env); err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	var domain string
	if bulk.domains == "" {
		domain, _ = dnscheck.NormalizeDomain(fs.Arg(0)) // validated above
	}
	if err := sf.load(g, domain, bulk.domains != ""); err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	cfg := check.Config{Only: *only, Skip: *skip, Version: version}
	if err := checkSource(&cfg, *ip, *sender); err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	for _, a := range apply {
		if err := a(&cfg); err != nil {
			return usageError(stdio, "check", "%v", err)
		}
	}
	res, err := g.resolverWith(dnscheck.Options{MaxInFlight: bulk.inFlight()})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v\n", err)
		return report.ExitUnknown
	}
	cfg.Resolver = res
	if bulk.domains != "" {
		return runCheckDomains(ctx, stdio, g, bulk, cfg)
	}
	return runCheckOne(ctx, stdio, g, &sf, cfg, domain)
}

// validateCheckArgs checks the arguments and flags that need no network.
func validateCheckArgs(fs *pflag.FlagSet, g *globalFlags, bulk *bulkFlags, getenv func(string) string) error {
	if err := g.validate(); err != nil {
		return err
	}
	only, _ := fs.GetStringSlice("only")
	skip, _ := fs.GetStringSlice("skip")
	if err := check.ValidatePartIDs(append(append([]string{}, only...), skip...)); err != nil {
		return err
	}
	if bulk.domains != "" {
		if g.format == "nagios" {
			return errors.New("--format nagios describes one check; with --domains use text (a summary table), json (JSON Lines) or prometheus")
		}
		return bulk.validate(fs, getenv)
	}
	for _, name := range []string{"concurrency", "shard", "shards", "smtp-spacing", "exit-zero"} {
		if fs.Changed(name) {
			return fmt.Errorf("--%s goes with --domains", name)
		}
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want exactly one DOMAIN (or --domains FILE), got %d arguments", fs.NArg())
	}
	_, err := dnscheck.NormalizeDomain(fs.Arg(0))
	return err
}

func (b *bulkFlags) validate(fs *pflag.FlagSet, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	var err error
	if b.shardOf, err = check.ParseShard(b.shard, b.shards, getenv); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return fmt.Errorf("give either DOMAIN or --domains, not both (got %q)", fs.Args())
	case b.concurrency < 1 || b.concurrency > 1024:
		return fmt.Errorf("--concurrency %d: want 1 to 1024", b.concurrency)
	case b.smtpSpacing < 0:
		return errors.New("--smtp-spacing must not be negative")
	case b.dnsInFlight < 0 || b.dnsInFlight > 4096:
		return fmt.Errorf("--dns-in-flight %d: want 1 to 4096", b.dnsInFlight)
	}
	return nil
}

// inFlight is the resolver's bound on queries in flight: a run over many
// domains needs more than one domain's round of queries (64).
func (b *bulkFlags) inFlight() int {
	switch {
	case b.dnsInFlight > 0:
		return b.dnsInFlight
	case b.domains != "":
		return check.BulkDNSInFlight
	}
	return 0
}

// checkSource fills the sending source to judge (--ip, --sender).
func checkSource(cfg *check.Config, ip, sender string) error {
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("--ip %q is not an IP address", ip)
		}
		cfg.SendingIP = a.Unmap()
	}
	if sender != "" {
		at := strings.LastIndexByte(sender, '@')
		if at <= 0 {
			return fmt.Errorf("--sender %q is not an address (want local@domain)", sender)
		}
		d, err := dnscheck.NormalizeDomain(sender[at+1:])
		if err != nil {
			return fmt.Errorf("--sender %q: %v", sender, err)
		}
		cfg.Sender = sender[:at+1] + d
	}
	return nil
}

// runCheckOne checks one domain under the command's deadline.
func runCheckOne(ctx context.Context, stdio IO, g *globalFlags, sf *stateFlags, cfg check.Config, domain string) int {
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

// runCheckDomains checks the domains of a list: JSON Lines or a summary
// table as each domain is done, a progress line on a terminal's stderr.
func runCheckDomains(ctx context.Context, stdio IO, g *globalFlags, bulk *bulkFlags, cfg check.Config) int {
	list, closeList, err := openList(stdio, bulk.domains)
	if err != nil {
		return usageError(stdio, "check", "%v", err)
	}
	defer closeList()
	out, finish, err := openOutput(stdio, g.output)
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v\n", err)
		return report.ExitUnknown
	}
	cfg.SMTP.Locks = &check.IPLocks{Spacing: bulk.smtpSpacing}
	r := &check.Runner{Config: cfg, Concurrency: bulk.concurrency, DomainTimeout: g.timeout, Shard: bulk.shardOf}
	w := newBulkWriter(out, g, stdio)
	stopProgress := showProgress(stdio, out, r)
	runErr := r.Run(ctx, list, func(res check.Result) error { return w.add(res.Report) })
	stopProgress()
	if runErr == nil {
		runErr = w.close()
	}
	code := r.ExitCode()
	if runErr != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v (after %d domains)\n", runErr, r.Progress().Done)
	}
	if err := finish(runErr == nil); err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray check: %v\n", err)
		runErr = err
	}
	switch {
	case runErr != nil:
		return worseExit(code, report.ExitUnknown)
	case bulk.exitZero:
		return report.ExitOK
	}
	return code
}

// bulkWriter renders a run's reports as they come: JSON Lines, rows of
// the summary table, or the samples of a Prometheus exposition, written
// whole at the end (each metric family once) but kept as samples, not
// reports.
type bulkWriter struct {
	w     io.Writer
	g     *globalFlags
	table *report.SummaryTable
	prom  *report.PrometheusCollector
}

func newBulkWriter(w io.Writer, g *globalFlags, stdio IO) *bulkWriter {
	b := &bulkWriter{w: w, g: g}
	switch g.format {
	case "text":
		b.table = report.NewSummaryTable(w, report.TextOptions{Color: g.useColor(IO{Stdout: w, Env: stdio.Env})})
	case "prometheus":
		b.prom = report.NewPrometheusCollector()
	}
	return b
}

func (b *bulkWriter) add(rep *report.Report) error {
	if !b.g.trace {
		rep.Trace = nil
	}
	switch {
	case b.table != nil:
		return b.table.Add(rep)
	case b.prom != nil:
		b.prom.Add(rep)
		return nil
	}
	return report.WriteJSONLine(b.w, rep)
}

func (b *bulkWriter) close() error {
	switch {
	case b.table != nil:
		return b.table.Close()
	case b.prom != nil:
		return b.prom.Write(b.w)
	}
	return nil
}

// openList opens the domain list: a file, or standard input for "-".
func openList(stdio IO, name string) (io.Reader, func(), error) {
	if name == "-" {
		return stdio.Stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("--domains: %v", err)
	}
	return f, func() { f.Close() }, nil
}

// openOutput returns where the output goes: standard output, or with
// --output a file that replaces FILE whole when finish(true) is called
// (finish(false) leaves FILE as it was).
func openOutput(stdio IO, path string) (io.Writer, func(commit bool) error, error) {
	if path == "" {
		return stdio.Stdout, func(bool) error { return nil }, nil
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--output: %v", err)
	}
	return f, func(commit bool) error {
		if !commit {
			f.Abort()
			return nil
		}
		if err := f.Commit(); err != nil {
			return fmt.Errorf("--output: %v", err)
		}
		return nil
	}, nil
}

// showProgress keeps a progress line on stderr while the run goes, when
// stderr is a terminal (never in machine output, never in cron mail) and the
// output is not: rows written to the same terminal show the progress
// themselves, and a line redrawn between them would garble them.
func showProgress(stdio IO, out io.Writer, r *check.Runner) (stop func()) {
	f, ok := stdio.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || isTerminal(out) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintf(f, "\r\x1b[Kmxray: %s", r.Progress())
			case <-done:
				fmt.Fprintf(f, "\r\x1b[Kmxray: %s\n", r.Progress())
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// errWriter remembers the first write error, so that a half-written
// report is never renamed into place.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// worseExit is the worse of two exit codes (failure > unknown > warning > ok).
func worseExit(a, b int) int {
	rank := map[int]int{report.ExitOK: 0, report.ExitWarning: 1, report.ExitUnknown: 2, report.ExitFailure: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// stateFlags are --state and --changes, and the state they read.
type stateFlags struct {
	path    string
	changes bool
	prev    *state.State
}

// load checks the flags and reads the state file before the check runs,
// so that a bad state file costs no check.
func (sf *stateFlags) load(g *globalFlags, domain string, bulk bool) error {
	switch {
	case bulk && sf.path != "":
		return errors.New("--state keeps one domain's state; with --domains, compare the JSON Lines of two runs instead")
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
