package check

// The runner checks the domains of a list (check --domains) with what the
// checks of one run share: one resolver (one cache, one bound on queries in
// flight), one vetting of the resolver, one set of per-IP SMTP locks (two
// domains on the same mail host are never probed at once). Concurrency
// domains are checked at a time, each under its own deadline.
//
// The list is read as it comes and each report is handed to the caller as
// soon as its domain is done — in the order the checks finish, not the order
// of the list. Memory is then bounded by Concurrency reports, and a slow
// domain (an MX that tarpits for the whole deadline) never holds back the
// reports of the domains after it, as an in-order window would once it
// filled. Each report names its domain (Target), so the order of the list
// can be restored by sorting, and a consumer that needs the line number has
// it in Result.Entry.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// DefaultConcurrency is how many domains a Runner checks at once unless
// told. BenchmarkRunDomains: 32 domains at once and BulkDNSInFlight queries
// keep two cores busy at 20 ms per DNS answer.
const DefaultConcurrency = 32

// BulkDNSInFlight is the resolver's bound on queries in flight for a run
// over many domains (check --domains): 32 domains at once ask about 25
// queries each over 4 round trips, 200 at a time; one domain's check needs
// one round of 64.
const BulkDNSInFlight = 256

// DefaultDomainTimeout is each domain's deadline unless told.
const DefaultDomainTimeout = 60 * time.Second

// Runner checks the domains of a list. Its zero fields take the defaults.
// A Runner does one run (its counters are that run's); Progress and
// ExitCode may be called from other goroutines while it runs.
type Runner struct {
	// Config is shared by every check: its Resolver (one cache and one
	// in-flight bound for the run), its Vetter and SMTP.Locks (made here
	// when nil, so that the run shares them).
	Config Config
	// Concurrency is how many domains are checked at once.
	Concurrency int
	// DomainTimeout is the deadline of each domain's check.
	DomainTimeout time.Duration
	// Shard selects this worker's share of the list.
	Shard Shard

	read, skipped, bad, started, done atomic.Int64
	worst                             atomic.Int64 // the worst exit code so far, ranked
	begin                             atomic.Pointer[time.Time]
}

// Result is one finished line of the list: the report of its domain, or a
// report that says why the line could not be checked (a malformed domain).
type Result struct {
	Entry  ListEntry
	Report *report.Report
}

// Run reads the list and checks its domains, calling emit with each result
// as it is done; emit is never called concurrently. Run returns when the
// list is done, when emit returns an error (which Run returns), or when ctx
// ends (Run returns ctx's error, and the checks in flight are dropped: they
// were cut short). A read error of the list ends the run after the domains
// already read, and is returned.
func (r *Runner) Run(ctx context.Context, list io.Reader, emit func(Result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.prepare()
	jobs := make(chan ListEntry)
	results := make(chan Result, r.Concurrency)
	readErr := make(chan error, 1)
	go func() { readErr <- r.feed(ctx, NewDomainList(list), jobs) }()
	var wg sync.WaitGroup
	for range r.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, jobs, results)
		}()
	}
	go func() { wg.Wait(); close(results) }()
	if err := r.drain(ctx, results, emit); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return <-readErr
}

// prepare fills the defaults and the things the run shares.
func (r *Runner) prepare() {
	if r.Concurrency <= 0 {
		r.Concurrency = DefaultConcurrency
	}
	if r.DomainTimeout <= 0 {
		r.DomainTimeout = DefaultDomainTimeout
	}
	if r.Config.Vetter == nil && r.Config.Resolver != nil {
		r.Config.Vetter = dnscheck.NewVetter(r.Config.Resolver)
	}
	if r.Config.SMTP.Locks == nil {
		r.Config.SMTP.Locks = &IPLocks{}
	}
	now := time.Now()
	r.begin.Store(&now)
}

// feed sends this shard's entries to the workers, and closes jobs at the
// end of the list (or of ctx).
func (r *Runner) feed(ctx context.Context, list *DomainList, jobs chan<- ListEntry) error {
	defer close(jobs)
	for {
		e, err := list.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the domain list: %w", err)
		}
		r.read.Add(1)
		key := e.Domain
		if key == "" {
			key = e.Input // a bad line is reported by exactly one shard too
		}
		if !r.Shard.Owns(key) {
			r.skipped.Add(1)
			continue
		}
		select {
		case jobs <- e:
		case <-ctx.Done():
			return nil
		}
	}
}

// work checks entries until jobs is closed or ctx ends (the list may be a
// pipe that blocks: a worker does not wait for it once ctx ended).
func (r *Runner) work(ctx context.Context, jobs <-chan ListEntry, results chan<- Result) {
	for {
		var e ListEntry
		select {
		case j, ok := <-jobs:
			if !ok {
				return
			}
			e = j
		case <-ctx.Done():
			return
		}
		r.started.Add(1)
		res := Result{Entry: e, Report: r.check(ctx, e)}
		select {
		case results <- res:
		case <-ctx.Done():
			return
		}
	}
}

// check runs one domain's check under its deadline; a bad line gets a
// report that says why.
func (r *Runner) check(ctx context.Context, e ListEntry) *report.Report {
	if e.Err != nil {
		r.bad.Add(1)
		return badLineReport(e, r.Config.Version, r.now())
	}
	dctx, cancel := context.WithTimeout(ctx, r.DomainTimeout)
	defer cancel()
	rep, err := Domain(dctx, r.Config, e.Domain)
	if err != nil {
		e.Err = err
		return badLineReport(e, r.Config.Version, r.now())
	}
	return rep
}

// drain hands the results to emit one at a time, until the workers are done.
func (r *Runner) drain(ctx context.Context, results <-chan Result, emit func(Result) error) error {
	for res := range results {
		if ctx.Err() != nil {
			continue // cut short: not a result
		}
		r.done.Add(1)
		r.noteExit(res.Report.ExitCode())
		if err := emit(res); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) now() time.Time {
	if r.Config.Now != nil {
		return r.Config.Now()
	}
	return time.Now()
}

// badLineReport is the report of a line that could not be checked: one
// unknown finding with the reason, so every line of the output is a report
// of the same schema.
func badLineReport(e ListEntry, version string, now time.Time) *report.Report {
	rep := report.New("check", e.Input, version, now)
	sec := rep.Section("input", "The domain list")
	sec.Add(report.Finding{ID: "input.bad-line", Severity: report.Unknown, Subject: fmt.Sprintf("line %d", e.Line),
		Summary:  "not checked: " + e.Err.Error(),
		Evidence: []string{fmt.Sprintf("line %d: %q", e.Line, e.Input)},
		Fix:      "correct the line: one domain per line (or in the first column of a CSV row), # for comments"})
	rep.Finish(now)
	return rep
}

// exitRank orders exit codes as ExitCode does severities: a failure
// outranks an unknown, which outranks a warning.
func exitRank(code int) int {
	switch code {
	case report.ExitFailure:
		return 3
	case report.ExitUnknown:
		return 2
	case report.ExitWarning:
		return 1
	}
	return 0
}

var exitOfRank = [...]int{report.ExitOK, report.ExitWarning, report.ExitUnknown, report.ExitFailure}

func (r *Runner) noteExit(code int) {
	rank := int64(exitRank(code))
	for {
		cur := r.worst.Load()
		if rank <= cur || r.worst.CompareAndSwap(cur, rank) {
			return
		}
	}
}

// ExitCode is the exit code of the run so far: the worst of its reports'
// (0 for an empty list, or a shard with no domain of it).
func (r *Runner) ExitCode() int { return exitOfRank[r.worst.Load()] }

// Progress is a snapshot of a run, for a progress line.
type Progress struct {
	Read     int // lines with a domain (or a bad one) read so far
	Skipped  int // of those, left to other shards
	Bad      int // lines that hold no valid domain
	InFlight int // domains being checked now
	Done     int // results handed out
	Elapsed  time.Duration
}

// Progress returns the run's counters; safe to call while Run runs.
func (r *Runner) Progress() Progress {
	done := int(r.done.Load())
	p := Progress{Read: int(r.read.Load()), Skipped: int(r.skipped.Load()), Bad: int(r.bad.Load()),
		Done: done, InFlight: max(0, int(r.started.Load())-done)}
	if b := r.begin.Load(); b != nil {
		p.Elapsed = time.Since(*b)
	}
	return p
}

// String is the progress line: "1200 checked, 16 in flight, 3 bad lines,
// 800 for other shards; 41.2 domains/s, 29s".
func (p Progress) String() string {
	s := fmt.Sprintf("%d checked, %d in flight", p.Done, p.InFlight)
	if p.Bad > 0 {
		s += fmt.Sprintf(", %d bad lines", p.Bad)
	}
	if p.Skipped > 0 {
		s += fmt.Sprintf(", %d for other shards", p.Skipped)
	}
	if secs := p.Elapsed.Seconds(); secs > 0 {
		s += fmt.Sprintf("; %.1f domains/s, %s", float64(p.Done)/secs, p.Elapsed.Round(time.Second))
	}
	return s
}
