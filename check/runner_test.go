package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

// runnerWorld is n customer domains of one mail provider: each with an MX
// on the provider's host, SPF through the provider's include, and DMARC.
func runnerWorld(n int) string {
	var b strings.Builder
	b.WriteString(`
provider.test.        IN SOA ns.provider.test. hostmaster.provider.test. 1 3600 600 86400 300
mx.provider.test.     IN A 192.0.2.25
_spf.provider.test.   IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
`)
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("c%d.test.", i)
		fmt.Fprintf(&b, "%s IN SOA ns.%s hostmaster.%s 1 3600 600 86400 300\n", d, d, d)
		fmt.Fprintf(&b, "%s IN MX 10 mx.provider.test.\n", d)
		fmt.Fprintf(&b, "%s IN TXT \"v=spf1 include:_spf.provider.test -all\"\n", d)
		fmt.Fprintf(&b, "_dmarc.%s IN TXT \"v=DMARC1; p=reject\"\n", d)
	}
	return b.String()
}

func runnerClient(t *testing.T, srv *dnstest.Server) *dnscheck.Client {
	t.Helper()
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect runs r over list and returns the results by target.
func collect(t *testing.T, r *Runner, list io.Reader) map[string][]Result {
	t.Helper()
	out := map[string][]Result{}
	var mu sync.Mutex
	err := r.Run(context.Background(), list, func(res Result) error {
		mu.Lock()
		defer mu.Unlock()
		out[res.Report.Target] = append(out[res.Report.Target], res)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunnerListWithBadLines: every line of the list gets a report, a bad
// line an input.bad-line finding, and the others go on.
func TestRunnerListWithBadLines(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(3))
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx", "spf"}}, Concurrency: 2}
	list := "# customers\nc0.test\nC1.TEST.,gold\nexa mple.test\n\nc2.test\n192.0.2.1\n"
	got := collect(t, r, strings.NewReader(list))
	for _, d := range []string{"c0.test", "c1.test", "c2.test"} {
		if len(got[d]) != 1 || len(got[d][0].Report.Find("mx.present")) != 1 || len(got[d][0].Report.Find("input.bad-line")) != 0 {
			t.Errorf("%s: %+v", d, got[d])
		}
	}
	for _, bad := range []struct {
		input string
		line  int
	}{{"exa mple.test", 4}, {"192.0.2.1", 7}} {
		res := got[bad.input]
		if len(res) != 1 || res[0].Entry.Line != bad.line {
			t.Fatalf("%q: %+v", bad.input, res)
		}
		f := res[0].Report.Find("input.bad-line")
		if len(f) != 1 || f[0].Severity != report.Unknown || f[0].Subject != fmt.Sprintf("line %d", bad.line) {
			t.Errorf("%q: %+v", bad.input, f)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d reports, want 5", len(got))
	}
	if p := r.Progress(); p.Done != 5 || p.Bad != 2 || p.Read != 5 {
		t.Errorf("progress %+v", p)
	}
	// The run's exit code is the worst of its reports': the provider's MX is
	// at a documentation address (a failure), which outranks the bad lines.
	worst := report.ExitOK
	for _, rs := range got {
		if c := rs[0].Report.ExitCode(); exitRank(c) > exitRank(worst) {
			worst = c
		}
	}
	if code := r.ExitCode(); code != worst || code != report.ExitFailure {
		t.Errorf("run exit %d, want %d", code, worst)
	}
}

// TestRunnerSharesCacheAndVetting: domains share one resolver cache and one
// vetting of the resolver: the provider's include is asked once, the root's
// NS once.
func TestRunnerSharesCacheAndVetting(t *testing.T) {
	const n = 20
	srv := dnstest.Start(t, runnerWorld(n))
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx", "spf"}}, Concurrency: 8}
	var list strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&list, "c%d.test\n", i)
	}
	if got := collect(t, r, strings.NewReader(list.String())); len(got) != n {
		t.Fatalf("%d reports", len(got))
	}
	count := map[string]int{}
	for _, q := range srv.Log() {
		count[q]++
	}
	for q, want := range map[string]int{"_spf.provider.test. TXT": 1, "mx.provider.test. A": 1, ". NS": 1, "c7.test. MX": 1} {
		if count[q] != want {
			t.Errorf("%s asked %d times, want %d", q, count[q], want)
		}
	}
}

// TestRunnerOneConnectionPerIP: domains whose MX is the same host are never
// probed at once, whatever the concurrency. Connections are counted on the
// client side, from the dial to the Close.
func TestRunnerOneConnectionPerIP(t *testing.T) {
	const n = 6
	srv := dnstest.Start(t, runnerWorld(n))
	pki := smtptest.NewPKI(t)
	mx := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		time.Sleep(30 * time.Millisecond) // make overlapping sessions likely if the lock were missing
		c.Send("220 mx.provider.test ESMTP")
		c.Session()
	})
	defer smtptest.AssertNoMessage(t, mx.Rec)
	var count connCounter
	dial := count.wrap(smtptest.Router(map[string]string{"192.0.2.25:25": mx.Addr}))
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"smtp"}, SMTP: smtpTestOptions(pki), Dial: dial},
		Concurrency: n}
	var list strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&list, "c%d.test\n", i)
	}
	collect(t, r, strings.NewReader(list.String()))
	dials, maxActive := count.stats()
	if dials < n {
		t.Fatalf("%d connections; want one per domain", dials)
	}
	if maxActive != 1 {
		t.Errorf("max concurrent connections to one IP across the run: %d", maxActive)
	}
}

// TestRunnerDomainDeadline: a domain whose DNS never answers is cut at its
// own deadline and reported unknown; the other domains go on.
func TestRunnerDomainDeadline(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(3))
	srv.SetFault("c1.test.", dns.TypeMX, dnstest.Fault{Drop: true})
	c, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: Config{Resolver: c, Only: []string{"mx"}}, Concurrency: 3, DomainTimeout: 300 * time.Millisecond}
	got := collect(t, r, strings.NewReader("c0.test\nc1.test\nc2.test\n"))
	if f := got["c1.test"][0].Report.Find("mx.lookup-failed"); len(f) != 1 || f[0].Severity != report.Unknown {
		t.Errorf("c1.test: %+v", got["c1.test"][0].Report.Findings())
	}
	for _, d := range []string{"c0.test", "c2.test"} {
		if len(got[d][0].Report.Find("mx.present")) != 1 {
			t.Errorf("%s: %+v", d, got[d][0].Report.Findings())
		}
	}
}

// TestRunnerStreams: a report is handed out while the list is still open,
// so a list fed through a pipe is checked as it comes.
func TestRunnerStreams(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(2))
	pr, pw := io.Pipe()
	defer pw.Close()
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx"}}, Concurrency: 2}
	first := make(chan string, 2)
	done := make(chan error, 1)
	go func() {
		done <- r.Run(context.Background(), pr, func(res Result) error { first <- res.Report.Target; return nil })
	}()
	if _, err := io.WriteString(pw, "c0.test\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-first:
		if d != "c0.test" {
			t.Fatalf("got %s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no report before the end of the list")
	}
	io.WriteString(pw, "c1.test\n")
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := <-first; d != "c1.test" {
		t.Fatalf("got %s", d)
	}
}

// TestRunnerCancel: when the run is canceled while the list blocks (a pipe
// nobody writes to), Run returns the context's error without waiting for it.
func TestRunnerCancel(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(1))
	pr, pw := io.Pipe()
	defer pw.Close()
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, pr, func(Result) error { return nil }) }()
	io.WriteString(pw, "c0.test\n")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestRunnerEmitErrorStops: when the output fails (a closed pipe), the run
// stops and says why.
func TestRunnerEmitErrorStops(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(3))
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx"}}, Concurrency: 1}
	boom := errors.New("broken pipe")
	calls := 0
	err := r.Run(context.Background(), strings.NewReader("c0.test\nc1.test\nc2.test\n"), func(Result) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

// TestRunnerBoundedInFlight: while the consumer is stuck, the run does not
// read ahead and keep reports without bound: at most the one being handed
// out, Concurrency queued and Concurrency finished in the workers.
func TestRunnerBoundedInFlight(t *testing.T) {
	srv := dnstest.Start(t, runnerWorld(50))
	const conc = 2
	r := &Runner{Config: Config{Resolver: runnerClient(t, srv), Only: []string{"mx"}}, Concurrency: conc}
	var list strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&list, "c%d.test\n", i)
	}
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- r.Run(context.Background(), strings.NewReader(list.String()), func(Result) error { <-release; return nil })
	}()
	// Wait until the run stops making progress behind the stuck consumer.
	last := -1
	for stable := 0; stable < 5; time.Sleep(20 * time.Millisecond) {
		p := r.Progress()
		if n := p.Done + p.InFlight; n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	if p := r.Progress(); p.Done+p.InFlight > 2*conc+1 {
		t.Errorf("%d domains started behind a stuck consumer (progress %+v); bound %d", p.Done+p.InFlight, p, 2*conc+1)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := r.Progress(); p.Done != 50 {
		t.Errorf("done %d", p.Done)
	}
}

// TestRunnerShardsEndToEnd: for n in 1..8, the shards' outputs together hold
// every line of the list exactly once (bad lines too).
func TestRunnerShardsEndToEnd(t *testing.T) {
	res := dnscheck.NewStaticResolver()
	var list strings.Builder
	var want []string
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&list, "d%d.example.com\n", i)
		want = append(want, fmt.Sprintf("d%d.example.com", i))
	}
	list.WriteString("bad line\n# comment\n")
	want = append(want, "bad line")
	sort.Strings(want)
	for n := 1; n <= 8; n++ {
		var got []string
		for i := 0; i < n; i++ {
			r := &Runner{Config: Config{Resolver: res, Only: []string{"mx"}}, Shard: Shard{Index: i, Count: n}}
			for target := range collect(t, r, strings.NewReader(list.String())) {
				got = append(got, target)
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("n=%d: shards hold %v", n, got)
		}
	}
}
