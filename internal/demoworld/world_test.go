package demoworld

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/httpsfetch"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
)

func runCheck(t *testing.T, w *World, domain string) *report.Report {
	t.Helper()
	c, err := dnscheck.NewClient(w.Serve.Resolvers, w.Serve.ResolverOptions)
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.Serve.Check
	cfg.Resolver, cfg.Dial = c, w.Serve.Dial
	cfg.HTTPClient = httpsfetch.NewClient(httpsfetch.Options{Resolver: c, Dial: w.Serve.Dial, RootCAs: w.Serve.RootCAs})
	cfg.SMTP.TLS.RootCAs = w.Serve.RootCAs
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := check.Domain(ctx, cfg, domain)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWorld: the healthy domain has nothing to fix, the broken one shows
// every severity and the findings the home page promises, and no fake
// mail server ever received a message.
func TestWorld(t *testing.T) {
	w, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	healthy := runCheck(t, w, Healthy)
	if c := healthy.Summary; c.Warning+c.Failure+c.Unknown != 0 || c.OK < 30 {
		var b strings.Builder
		report.WriteText(&b, healthy, report.TextOptions{})
		t.Errorf("%s: %+v, want only ok and info findings:\n%s", Healthy, c, b.String())
	}
	broken := runCheck(t, w, Broken)
	for _, id := range []string{"mx.target-nxdomain", "mx.target-private", "ptr.missing", "spf.lookup-limit", "spf.void-limit",
		"dmarc.policy-none", "dmarc.report-unauthorized", "dkim.rsa-1024", "mta-sts.policy-fetch-failed", "tls-rpt.invalid",
		"bimi.lookup-failed", "smtp.open-relay", "smtp.certificate-expired", "smtp.catch-all", "dnsbl.listed"} {
		if len(broken.Find(id)) == 0 {
			t.Errorf("%s: no %s finding", Broken, id)
		}
	}
	if c := broken.Summary; c.OK == 0 || c.Info == 0 || c.Warning == 0 || c.Failure == 0 || c.Unknown == 0 {
		t.Errorf("%s: %+v, want every severity", Broken, c)
	}
	smtptest.AssertNoMessage(t, w.Recorders...)
}

// TestRouterSealed: the demo's dialer reaches only the world's servers.
func TestRouterSealed(t *testing.T) {
	w, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, addr := range []string{"127.0.0.1:22", w.DNS.Addr, "81.2.69.160:587", "[::1]:25"} {
		if c, err := w.Serve.Dial(context.Background(), "tcp", addr); err == nil {
			c.Close()
			t.Errorf("dialed %s", addr)
		} else if !strings.Contains(err.Error(), "the demo world has no server at") {
			t.Errorf("%s: %v", addr, err)
		}
	}
	c, err := w.Serve.Dial(context.Background(), "tcp", "81.2.69.160:25")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
