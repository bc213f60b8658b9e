package check

import (
	"context"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// TestBlocklistInFlight: one target's first round (3 queries per list,
// and some room) fits in flight, between 64 and 256.
func TestBlocklistInFlight(t *testing.T) {
	for lists, want := range map[int]int{0: 64, 10: 64, 20: 76, 50: 166, 100: 256} {
		if got := BlocklistInFlight(lists); got != want {
			t.Errorf("BlocklistInFlight(%d) = %d, want %d", lists, got, want)
		}
	}
}

// TestBlocklist: each target on the selected list, listed or not, the
// title naming at most three targets, and the trace of the queries.
func TestBlocklist(t *testing.T) {
	srv := dnstest.Start(t, `
2.0.0.127.bl.example.net. A 127.0.0.2
5.0.0.81.bl.example.net.  A 127.0.0.2
`)
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Version: "test", DNSBL: DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.net:ipv4"}}}}
	targets := []string{"81.0.0.5", "81.0.0.6", "81.0.0.7", "81.0.0.8"}
	rep := Blocklist(context.Background(), cfg, targets)
	if rep.Command != "blocklist" || rep.Target != "81.0.0.5 81.0.0.6 81.0.0.7 and 1 more" || len(rep.Sections) != 1 {
		t.Fatalf("report %s %q, %d sections", rep.Command, rep.Target, len(rep.Sections))
	}
	d, ok := rep.Sections[0].Detail.(*dnsbl.Report)
	if !ok || len(d.Results) != 4 {
		t.Fatalf("detail %#v", rep.Sections[0].Detail)
	}
	if l := rep.Find("dnsbl.listed"); len(l) != 1 || !strings.Contains(l[0].Subject+l[0].Summary, "81.0.0.5") {
		t.Errorf("listed: %v", rep.Findings())
	}
	if len(rep.Trace) < 5 {
		t.Errorf("%d queries in the trace", len(rep.Trace))
	}
	if got := BlocklistTitle(targets[:2]); got != "81.0.0.5 81.0.0.6" {
		t.Errorf("title %q", got)
	}
}

// TestRedactDQS: a DQS key, a credential, never shows in a trace.
func TestRedactDQS(t *testing.T) {
	trace := []report.Query{{Name: "5.0.0.81.abcdef0123.zen.dq.spamhaus.net."}, {Name: "example.com."}}
	got := redactDQS(trace, "ABCDEF0123")
	if got[0].Name != "5.0.0.81.<dqs-key>.zen.dq.spamhaus.net." || got[1].Name != "example.com." {
		t.Errorf("%v", got)
	}
}
