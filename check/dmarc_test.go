package check

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mxray/mxray/dnscheck/dkim"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// The dmarc part takes the SPF result of the sending IP from the spf part
// when it runs, and evaluates it itself when the spf part is skipped; either
// way the alignment finding is the same.
func TestDMARCPartAlignment(t *testing.T) {
	zone := []string{
		`example.test. 300 IN MX 10 mx.example.test.`,
		`mx.example.test. 300 IN A 192.0.2.25`,
		`example.test. 300 IN TXT "v=spf1 ip4:192.0.2.25 -all"`,
		`bounce.example.test. 300 IN TXT "v=spf1 ip4:192.0.2.25 -all"`,
		`_dmarc.example.test. 300 IN TXT "v=DMARC1; p=reject; aspf=s; rua=mailto:d@example.test"`,
		`sel._domainkey.example.test. 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="`,
	}
	tests := []struct {
		name   string
		only   []string
		sender string
		ip     string
		want   string
		sev    report.Severity
	}{
		{"spf part runs, strict, same domain", []string{"dmarc", "spf"}, "a@example.test", "192.0.2.25", "dmarc.spf-aligned", report.OK},
		{"spf part runs, strict, subdomain", []string{"dmarc", "spf"}, "a@bounce.example.test", "192.0.2.25", "dmarc.spf-not-aligned", report.Warning},
		{"spf part skipped", []string{"dmarc"}, "a@bounce.example.test", "192.0.2.25", "dmarc.spf-not-aligned", report.Warning},
		{"spf fails", []string{"dmarc", "spf"}, "", "192.0.2.99", "dmarc.spf-fail", report.Warning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Resolver: dnscheck.NewStaticResolver(zone...), Only: tc.only, Sender: tc.sender,
				SendingIP: netip.MustParseAddr(tc.ip), DKIM: DKIMOptions{Selectors: []string{"sel"}}}
			rep, err := Domain(context.Background(), cfg, "example.test")
			if err != nil {
				t.Fatal(err)
			}
			fs := rep.Find(tc.want)
			if len(fs) != 1 || fs[0].Severity != tc.sev {
				var ids []string
				for _, f := range rep.Findings() {
					ids = append(ids, f.ID)
				}
				t.Errorf("want one %s (%v), got %+v\nall %v", tc.want, tc.sev, fs, ids)
			}
		})
	}
}

func TestDKIMPartSelectors(t *testing.T) {
	r := dnscheck.NewStaticResolver(`sel._domainkey.example.test. 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="`)
	rep, err := Domain(context.Background(), Config{Resolver: r, Only: []string{"dkim"}, DKIM: DKIMOptions{Selectors: []string{"sel", "gone"}}}, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Find("dkim.key")) != 1 || len(rep.Find("dkim.selector-missing")) != 1 {
		t.Errorf("findings %+v", rep.Findings())
	}
	var v any
	for _, s := range rep.Sections {
		if s.ID == "dkim" {
			v = s.Detail
		}
	}
	if res, ok := v.(*dkim.Result); !ok || len(res.Selectors) != 2 || res.Guessed {
		t.Errorf("detail %#v", v)
	}
}
