package dane

import (
	"context"
	"strings"
	"testing"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

const dnssecZone = `
secure.example.   IN SOA ns.secure.example. h.secure.example. 1 3600 600 86400 300
secure.example.   IN DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
mx.secure.example. IN A 192.0.2.1
plain.example.    IN SOA ns.plain.example. h.plain.example. 1 3600 600 86400 300
mx.plain.example. IN A 192.0.2.2
signed.example.   IN SOA ns.signed.example. h.signed.example. 1 3600 600 86400 300
signed.example.   IN DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
mx.signed.example. IN A 192.0.2.3
fail.example.     IN SOA ns.fail.example. h.fail.example. 1 3600 600 86400 300
slow.example.     IN SOA ns.slow.example. h.slow.example. 1 3600 600 86400 300
slowds.example.   IN SOA ns.slowds.example. h.slowds.example. 1 3600 600 86400 300
`

func TestCheckDNSSEC(t *testing.T) {
	srv := dnstest.Start(t, dnssecZone)
	srv.Secure("secure.example")
	srv.SetFault("fail.example.", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("slow.example.", 0, dnstest.Fault{Drop: true})
	srv.SetFault("mx.plain.example.", dns.TypeDS, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	srv.SetFault("slowds.example.", dns.TypeDS, dnstest.Fault{Drop: true})
	c := testworld.Client(t, srv)
	tests := []struct {
		domain string
		hosts  []string
		want   []string // status per name: domain first
		sevs   map[string]report.Severity
	}{
		// Signed and validated (the test resolver sets AD for secure.example).
		{"secure.example", []string{"mx.secure.example", "MX.secure.example."}, []string{DNSSECSecure, DNSSECSecure},
			map[string]report.Severity{"dnssec.secure": report.OK}},
		// No DS anywhere: unsigned, observed.
		{"plain.example", nil, []string{DNSSECUnsigned}, map[string]report.Severity{"dnssec.unsigned": report.Info}},
		// A DS at the delegation but no AD: this resolver does not validate.
		{"signed.example", []string{"mx.signed.example"}, []string{DNSSECNoAD, DNSSECNoAD},
			map[string]report.Severity{"dnssec.not-validated": report.Unknown}},
		{"fail.example", nil, []string{DNSSECUnknown}, map[string]report.Severity{"dnssec.lookup-failed": report.Unknown}},
		{"slow.example", nil, []string{DNSSECUnknown}, map[string]report.Severity{"dnssec.lookup-failed": report.Unknown}},
		// The DS lookup times out: unknown, not "unsigned".
		{"slowds.example", nil, []string{DNSSECUnknown}, map[string]report.Severity{"dnssec.lookup-failed": report.Unknown}},
		// The DS lookup of an MX host fails: unknown, not "unsigned".
		{"secure.example", []string{"mx.plain.example"}, []string{DNSSECSecure, DNSSECUnknown},
			map[string]report.Severity{"dnssec.secure": report.OK, "dnssec.lookup-failed": report.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.domain+" "+strings.Join(tt.hosts, ","), func(t *testing.T) {
			res := CheckDNSSEC(context.Background(), c, tt.domain, tt.hosts)
			var got []string
			for _, n := range res.Names {
				got = append(got, n.Status)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("statuses = %v, want %v", got, tt.want)
			}
			if s := reporttest.Severities(res.Findings()); reporttest.IDs(s) != reporttest.IDs(tt.sevs) {
				t.Fatalf("got  %s\nwant %s", reporttest.IDs(s), reporttest.IDs(tt.sevs))
			}
		})
	}
	t.Run("unsigned publish", func(t *testing.T) {
		fs := CheckDNSSEC(context.Background(), c, "plain.example", nil).Findings()
		if len(fs) != 1 || len(fs[0].Publish) != 1 || !strings.HasPrefix(fs[0].Publish[0], "plain.example. IN DS ") {
			t.Fatalf("%+v", fs)
		}
	})
}
