package tlsrpt

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

func TestParseTLSRPT(t *testing.T) {
	tests := []struct {
		in      string
		usable  []string // targets
		bad     int
		wantErr string
	}{
		{"v=TLSRPTv1; rua=mailto:reports@example.com", []string{"reports@example.com"}, 0, ""},
		{"v=TLSRPTv1;rua=mailto:a@example.com,https://reports.example.net/v1/tlsrpt;", []string{"a@example.com", "reports.example.net"}, 0, ""},
		{"v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.com", []string{"a@example.com", "b@example.com"}, 0, ""},
		{"v=TLSRPTv1; rua=mailto:a@example.com,http://insecure.example/", []string{"a@example.com"}, 1, ""},
		{"v=TLSRPTv1; rua=mailto:a@example.com; ext=1", []string{"a@example.com"}, 0, ""},
		{"v=TLSRPTv1; rua=http://insecure.example/", nil, 1, "no usable rua"},
		{"v=TLSRPTv1; rua=mailto:", nil, 1, "no usable rua"},
		{"v=TLSRPTv1; rua=reports@example.com", nil, 1, "no usable rua"},
		{"v=TLSRPTv1", nil, 0, "\"rua\" is missing"},
		{"v=TLSRPTv1; ruf=mailto:a@example.com", nil, 0, "\"rua\" is missing"},
		{"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", nil, 0, "twice"},
		{"v=TLSRPTv2; rua=mailto:a@example.com", nil, 0, "must start with"},
		{"rua=mailto:a@example.com; v=TLSRPTv1", nil, 0, "must start with"},
		{"v=TLSRPTv1;; rua=mailto:a@example.com", nil, 0, "empty field"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rec, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range rec.UsableRUA() {
				got = append(got, u.Target)
			}
			if strings.Join(got, ",") != strings.Join(tt.usable, ",") || len(rec.RUA)-len(got) != tt.bad {
				t.Fatalf("usable %v, all %+v", got, rec.RUA)
			}
		})
	}
}

func TestTLSRPTFindings(t *testing.T) {
	base := "example.com. IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300\n"
	tests := []struct {
		name   string
		zone   string
		rcode  int
		drop   bool
		policy string
		want   map[string]report.Severity
	}{
		{name: "ok", zone: `_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tls@example.com"`,
			want: map[string]report.Severity{"tls-rpt.ok": report.OK}},
		{name: "one bad URI", zone: `_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tls@example.com,ftp://x.example/"`,
			want: map[string]report.Severity{"tls-rpt.ok": report.OK, "tls-rpt.bad-uri": report.Warning}},
		{name: "missing", want: map[string]report.Severity{"tls-rpt.none": report.Info}},
		{name: "missing with MTA-STS", policy: "MTA-STS", want: map[string]report.Severity{"tls-rpt.none": report.Warning}},
		{name: "other TXT only", zone: `_smtp._tls.example.com. IN TXT "hello"`, want: map[string]report.Severity{"tls-rpt.none": report.Info}},
		{name: "invalid", zone: `_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=http://x.example/"`,
			want: map[string]report.Severity{"tls-rpt.invalid": report.Failure}},
		{name: "no rua", zone: `_smtp._tls.example.com. IN TXT "v=TLSRPTv1;"`,
			want: map[string]report.Severity{"tls-rpt.invalid": report.Failure}},
		{name: "two records", zone: "_smtp._tls.example.com. IN TXT \"v=TLSRPTv1; rua=mailto:a@example.com\"\n_smtp._tls.example.com. IN TXT \"v=TLSRPTv1; rua=mailto:b@example.com\"",
			want: map[string]report.Severity{"tls-rpt.invalid": report.Failure}},
		{name: "SERVFAIL", rcode: dns.RcodeServerFailure, want: map[string]report.Severity{"tls-rpt.lookup-failed": report.Unknown}},
		{name: "timeout", drop: true, want: map[string]report.Severity{"tls-rpt.lookup-failed": report.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dnstest.Start(t, base+tt.zone+"\n")
			if tt.rcode != 0 || tt.drop {
				srv.SetFault("_smtp._tls.example.com.", dns.TypeTXT, dnstest.Fault{Rcode: tt.rcode, Drop: tt.drop})
			}
			res := Lookup(context.Background(), testworld.Client(t, srv), "example.com")
			res.UsesTLSPolicy = tt.policy
			fs := res.Findings()
			if got := reporttest.Severities(fs); reporttest.IDs(got) != reporttest.IDs(tt.want) {
				t.Fatalf("got %s, want %s", reporttest.IDs(got), reporttest.IDs(tt.want))
			}
			for _, f := range fs {
				if (f.ID == "tls-rpt.none" || f.ID == "tls-rpt.invalid") &&
					(len(f.Publish) != 1 || f.Publish[0] != `_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.com"`) {
					t.Errorf("publish = %q", f.Publish)
				}
			}
		})
	}
}

func FuzzParseTLSRPT(f *testing.F) {
	f.Add("v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/x")
	f.Add("v=TLSRPTv1;rua=mailto:%40@x")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := Parse(s)
		if err == nil && len(rec.UsableRUA()) == 0 {
			t.Fatalf("accepted %q without a usable URI", s)
		}
		if rec != nil {
			for _, u := range rec.UsableRUA() {
				if u.Scheme != "mailto" && u.Scheme != "https" {
					t.Fatalf("usable URI with scheme %q", u.Scheme)
				}
			}
		}
	})
}
