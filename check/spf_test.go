package check

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func TestSPFPart(t *testing.T) {
	zone := []string{
		`example.test. 300 IN MX 10 mx1.example.test.`,
		`example.test. 300 IN MX 20 mx2.example.test.`,
		`mx1.example.test. 300 IN A 192.0.2.25`,
		`mx2.example.test. 300 IN A 198.51.100.25`,
		`mx2.example.test. 300 IN AAAA 2001:db8::25`,
		`example.test. 300 IN TXT "v=spf1 a:mx1.example.test include:_spf.esp.test ~all"`,
		`_spf.esp.test. 300 IN TXT "v=spf1 ip4:203.0.113.0/24 -all"`,
		`bounce.other.test. 300 IN TXT "v=spf1 ip4:192.0.2.77 -all"`,
	}
	tests := []struct {
		name   string
		ip     string
		sender string
		opt    SPFOptions
		want   map[string]report.Severity // finding id -> severity (one each)
		evals  int
	}{
		{name: "MX addresses only, as info", want: map[string]report.Severity{"spf.mx-pass": report.Info, "spf.mx-softfail": report.Info}, evals: 3},
		{name: "sending IP passes", ip: "203.0.113.9", want: map[string]report.Severity{"spf.result-pass": report.OK}, evals: 4},
		{name: "sending IP softfails: warning", ip: "203.0.114.9", opt: SPFOptions{NoMX: true}, want: map[string]report.Severity{"spf.result-softfail": report.Warning}, evals: 1},
		{name: "sender at another domain is checked there", ip: "192.0.2.78", sender: "b@bounce.other.test", opt: SPFOptions{NoMX: true},
			want: map[string]report.Severity{"spf.result-fail": report.Failure}, evals: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Resolver: dnscheck.NewStaticResolver(zone...), Only: []string{"spf"}, Sender: tc.sender, SPF: tc.opt}
			if tc.ip != "" {
				cfg.SendingIP = netip.MustParseAddr(tc.ip)
			}
			rep, err := Domain(context.Background(), cfg, "example.test")
			if err != nil {
				t.Fatal(err)
			}
			for id, sev := range tc.want {
				fs := rep.Find(id)
				if len(fs) == 0 || fs[0].Severity != sev {
					t.Errorf("want %s (%s), got %+v", id, sev, fs)
				}
			}
			// The typed value other parts await ("spf" → *spf.Check).
			r := cfg.Resolver
			done := make(chan struct{})
			close(done)
			env := &Env{Domain: "example.test", Config: &cfg, results: map[string]*partResult{
				"mx": {done: done, enabled: !tc.opt.NoMX, value: dnscheck.LookupMX(context.Background(), r, "example.test")}}}
			_, v := runSPF(context.Background(), env)
			got, _ := v.(*spf.Check)
			if got == nil || got.Record == "" || len(got.Evaluations) != tc.evals {
				t.Fatalf("awaited SPF check: %+v", got)
			}
			if tc.ip != "" && got.Evaluations[0].Subject != "--ip" {
				t.Errorf("first evaluation %+v, want the --ip one", got.Evaluations[0])
			}
		})
	}
}
