package check

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// TestResolverThatLies: a resolver answering NXDOMAIN for everything (an
// offline sandbox, a captive portal) must not make the domain "not exist":
// every negative answer is unknown, the report names the resolver, exit 3.
func TestResolverThatLies(t *testing.T) {
	zone, err := os.ReadFile("../testdata/zones/example.com.zone")
	if err != nil {
		t.Fatal(err)
	}
	srv := dnstest.Start(t, string(zone))
	srv.SetFaultAll(dnstest.Fault{Rcode: dns.RcodeNameError})
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Resolver: res, Skip: []string{"smtp"}, DKIM: DKIMOptions{Selectors: []string{"s1"}},
		DNSBL: DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.org:ipv4"}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := Domain(ctx, cfg, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if code := rep.ExitCode(); code != report.ExitUnknown {
		t.Errorf("exit %d, want %d", code, report.ExitUnknown)
	}
	u := rep.Find("resolver.untrusted")
	if len(u) != 1 || u[0].Severity != report.Unknown || !strings.Contains(u[0].Summary, srv.Addr) {
		t.Fatalf("resolver.untrusted: %+v", u)
	}
	if rep.Sections[0].ID != "resolver" {
		t.Errorf("the resolver section comes first, got %s", rep.Sections[0].ID)
	}
	for _, f := range rep.Findings() {
		if f.Severity == report.Failure || f.Severity == report.OK {
			t.Errorf("%s %s: %s — nothing was observed through a lying resolver", f.Severity, f.ID, f.Summary)
		}
	}
	for _, id := range []string{"mx.domain-nxdomain", "spf.none", "dmarc.none"} {
		if len(rep.Find(id)) != 0 {
			t.Errorf("%s reported from a lying resolver", id)
		}
	}
}

// TestResolverTruthfulNoSection: a resolver that answers the names that
// must exist adds nothing to the report.
func TestResolverTruthfulNoSection(t *testing.T) {
	srv := dnstest.Start(t, "example.test. IN SOA ns.example.test. h.example.test. 1 3600 600 86400 300")
	res, err := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Domain(context.Background(), Config{Resolver: res, Only: []string{"mx"}}, "nope.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Find("mx.domain-nxdomain")) != 1 {
		t.Errorf("a true NXDOMAIN must stay a failure: %+v", rep.Findings())
	}
	for _, s := range rep.Sections {
		if s.ID == "resolver" {
			t.Errorf("resolver section for a truthful resolver: %+v", s)
		}
	}
}
