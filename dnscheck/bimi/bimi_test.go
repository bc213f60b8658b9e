package bimi

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

func TestParseBIMI(t *testing.T) {
	tests := []struct {
		in       string
		logo     string
		auth     string
		declined bool
		wantErr  string
	}{
		{"v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem", "https://example.com/logo.svg", "https://example.com/vmc.pem", false, ""},
		{"v=BIMI1;l=https://example.com/logo.svg;", "https://example.com/logo.svg", "", false, ""},
		{"v=BIMI1; l=; a=;", "", "", true, ""},
		{"v=BIMI1;", "", "", true, ""},
		{"v=BIMI1; l=http://example.com/logo.svg", "", "", false, "not an https:// URL"},
		{"v=BIMI1; l=https://example.com/a.svg; a=ftp://example.com/vmc.pem", "", "", false, "not an https:// URL"},
		{"v=BIMI2; l=https://example.com/logo.svg", "", "", false, "must start with"},
		{"l=https://example.com/logo.svg; v=BIMI1", "", "", false, "must start with"},
		{"v=BIMI1; l=https://a.example/x.svg; l=https://b.example/y.svg", "", "", false, "twice"},
		{"v=BIMI1; logo", "", "", false, "no \"=\""},
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
			if rec.Logo != tt.logo || rec.Authority != tt.auth || rec.Declined() != tt.declined {
				t.Fatalf("got %+v", rec)
			}
		})
	}
}

const bimiSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg version="1.2" baseProfile="tiny-ps" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><title>Example</title><rect width="100" height="100" fill="#07c"/></svg>`

func TestCheckBIMI(t *testing.T) {
	ca := testworld.NewCA(t)
	now := time.Now()
	good, _ := ca.Leaf(t, []string{"example.com", "bimi.example.com"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := ca.Leaf(t, []string{"example.com", "bimi.example.com"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	wrongName, _ := ca.Leaf(t, []string{"other.example.org"}, now.Add(-time.Hour), now.Add(time.Hour))
	_, vmc := ca.Leaf(t, []string{"example.com"}, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	_, oldVMC := ca.Leaf(t, []string{"example.com"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour))

	mux := http.NewServeMux()
	mux.HandleFunc("/logo.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, bimiSVG)
	})
	mux.HandleFunc("/logo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n"))
	})
	mux.HandleFunc("/moved.svg", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/logo.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/vmc.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vmc.Raw}))
	})
	mux.HandleFunc("/old.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: oldVMC.Raw}))
	})
	mux.HandleFunc("/junk.pem", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })

	const base = `
example.com.       IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300
example.com.       IN A 127.0.0.1
bimi.example.com.  IN A 127.0.0.1
`
	dmarcReject := `_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"` + "\n"
	rec := func(s string) string { return `default._bimi.example.com. IN TXT "` + s + `"` + "\n" }
	type want = map[string]report.Severity
	tests := []struct {
		name  string
		zone  string
		cert  *tls.Certificate
		fault string
		rcode int
		drop  bool
		want  want
	}{
		{name: "complete", zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg; a=https://bimi.example.com/vmc.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.evidence-ok": report.OK, "bimi.dmarc-enforced": report.OK}},
		{name: "no evidence, DMARC p=none", zone: `_dmarc.example.com. IN TXT "v=DMARC1; p=none"` + "\n" + rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.no-evidence": report.Info, "bimi.dmarc-not-enforced": report.Warning}},
		{name: "no DMARC", zone: rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.no-evidence": report.Info, "bimi.dmarc-not-enforced": report.Warning}},
		{name: "png logo, expired VMC", zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.png; a=https://bimi.example.com/old.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-format": report.Warning, "bimi.evidence-expired": report.Failure, "bimi.dmarc-enforced": report.OK}},
		{name: "redirected logo, junk evidence", zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/moved.svg; a=https://bimi.example.com/junk.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-unreachable": report.Failure, "bimi.evidence-invalid": report.Failure, "bimi.dmarc-enforced": report.OK}},
		{name: "wrong certificate name", cert: &wrongName, zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-unreachable": report.Failure, "bimi.no-evidence": report.Info, "bimi.dmarc-enforced": report.OK}},
		{name: "logo host SERVFAIL", fault: "bimi.example.com.", rcode: dns.RcodeServerFailure, zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-unreachable": report.Unknown, "bimi.no-evidence": report.Info, "bimi.dmarc-enforced": report.OK}},
		{name: "expired certificate", cert: &expired, zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg; a=https://bimi.example.com/vmc.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-unreachable": report.Failure, "bimi.evidence-unreachable": report.Failure, "bimi.dmarc-enforced": report.OK}},
		{name: "evidence 404", zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg; a=https://bimi.example.com/nope.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.evidence-unreachable": report.Failure, "bimi.dmarc-enforced": report.OK}},
		{name: "logo host timeout", fault: "bimi.example.com.", drop: true, zone: dmarcReject + rec("v=BIMI1; l=https://bimi.example.com/logo.svg; a=https://bimi.example.com/vmc.pem"),
			want: want{"bimi.record": report.OK, "bimi.logo-unreachable": report.Unknown, "bimi.evidence-unreachable": report.Unknown, "bimi.dmarc-enforced": report.OK}},
		{name: "DMARC lookup timeout", fault: "_dmarc.example.com.", drop: true, zone: rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.no-evidence": report.Info, "bimi.dmarc-unknown": report.Unknown}},
		{name: "declined", zone: rec("v=BIMI1; l=; a=;"), want: want{"bimi.declined": report.Info}},
		{name: "none", zone: dmarcReject, want: want{"bimi.none": report.Info}},
		{name: "invalid", zone: rec("v=BIMI1; l=http://bimi.example.com/logo.svg"), want: want{"bimi.invalid": report.Failure}},
		{name: "two records", zone: rec("v=BIMI1; l=https://a.example/1.svg") + rec("v=BIMI1; l=https://a.example/2.svg"), want: want{"bimi.invalid": report.Failure}},
		{name: "SERVFAIL", fault: "default._bimi.example.com.", rcode: dns.RcodeServerFailure, zone: dmarcReject, want: want{"bimi.lookup-failed": report.Unknown}},
		{name: "timeout", fault: "default._bimi.example.com.", drop: true, zone: dmarcReject, want: want{"bimi.lookup-failed": report.Unknown}},
		{name: "DMARC lookup SERVFAIL", fault: "_dmarc.example.com.", rcode: dns.RcodeServerFailure, zone: rec("v=BIMI1; l=https://bimi.example.com/logo.svg"),
			want: want{"bimi.record": report.OK, "bimi.logo-ok": report.OK, "bimi.no-evidence": report.Info, "bimi.dmarc-unknown": report.Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dnstest.Start(t, base+tt.zone)
			if tt.fault != "" {
				srv.SetFault(tt.fault, 0, dnstest.Fault{Rcode: tt.rcode, Drop: tt.drop})
			}
			c := testworld.Client(t, srv)
			cert := good
			if tt.cert != nil {
				cert = *tt.cert
			}
			w := testworld.NewHTTPSWorld(t, ca, cert, c, mux)
			b := Check(context.Background(), c, w.Client, "example.com", now)
			fs := b.Findings()
			if got := reporttest.Severities(fs); reporttest.IDs(got) != reporttest.IDs(tt.want) {
				t.Fatalf("got  %s\nwant %s", reporttest.IDs(got), reporttest.IDs(tt.want))
			}
			for _, f := range fs {
				if f.ID == "bimi.none" && (len(f.Publish) != 1 || !strings.HasPrefix(f.Publish[0], `default._bimi.example.com. IN TXT "v=BIMI1; l=https://`)) {
					t.Errorf("publish = %q", f.Publish)
				}
			}
		})
	}
}
