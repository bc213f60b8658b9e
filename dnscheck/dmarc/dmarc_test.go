package dmarc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/internal/testworld"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/reporttest"
)

func TestParseDMARC(t *testing.T) {
	tests := []struct {
		name     string
		txt      string
		notDMARC bool
		check    func(t *testing.T, r *Record)
	}{
		{name: "minimal", txt: "v=DMARC1; p=reject", check: func(t *testing.T, r *Record) {
			if r.Policy != "reject" || r.ADKIM != "r" || r.ASPF != "r" || r.PSD != "u" || r.Testing || len(r.Errors) != 0 {
				t.Errorf("got %+v", r)
			}
		}},
		{name: "all tags", txt: "v=DMARC1;p=quarantine;sp=reject;np=reject;adkim=s;aspf=s;fo=1:d;psd=n;t=y;rua=mailto:a@x.example,mailto:b@y.example!10m;ruf=mailto:f@x.example",
			check: func(t *testing.T, r *Record) {
				if r.Policy != "quarantine" || r.SubdomainPolicy != "reject" || r.NonexistentPolicy != "reject" || r.ADKIM != "s" || r.ASPF != "s" ||
					r.FO != "1:d" || r.PSD != "n" || !r.Testing || len(r.RUA) != 2 || len(r.RUF) != 1 || len(r.Errors) != 0 {
					t.Errorf("got %+v", r)
				}
				if r.RUA[1].Domain != "y.example" || r.RUA[1].Size != "10m" || r.RUA[1].Err != "" {
					t.Errorf("rua[1] = %+v", r.RUA[1])
				}
			}},
		{name: "spaces around equals and separators", txt: "v = DMARC1 ;  p = none ; rua = mailto:a@x.example ;", check: func(t *testing.T, r *Record) {
			if r.Policy != "none" || len(r.RUA) != 1 || len(r.Errors) != 0 {
				t.Errorf("got %+v", r)
			}
		}},
		{name: "policy value case-insensitive", txt: "v=DMARC1; p=Reject", check: func(t *testing.T, r *Record) {
			if r.Policy != "reject" {
				t.Errorf("p = %q", r.Policy)
			}
		}},
		{name: "lower-case version", txt: "v=dmarc1; p=reject", notDMARC: true},
		{name: "other version", txt: "v=DMARC2; p=reject", notDMARC: true},
		{name: "version not first", txt: "p=reject; v=DMARC1", notDMARC: true},
		{name: "spf record", txt: "v=spf1 -all", notDMARC: true},
		{name: "empty", txt: "", notDMARC: true},
		{name: "removed tags", txt: "v=DMARC1; p=reject; pct=101; rf=afrf; ri=86400", check: func(t *testing.T, r *Record) {
			if len(r.Removed) != 3 {
				t.Errorf("removed = %v", r.Removed)
			}
			if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Msg, "0 to 100") || r.Errors[0].Pos != 20 {
				t.Errorf("errors = %v", r.Errors)
			}
		}},
		{name: "unknown tag", txt: "v=DMARC1; p=reject; rau=mailto:a@x.example", check: func(t *testing.T, r *Record) {
			if len(r.Unknown) != 1 || r.Unknown[0].Name != "rau" || r.Unknown[0].Pos != 20 {
				t.Errorf("unknown = %v", r.Unknown)
			}
		}},
		{name: "bad values with positions", txt: "v=DMARC1; p=block; adkim=x; t=maybe", check: func(t *testing.T, r *Record) {
			if r.Policy != "" || len(r.Errors) != 3 {
				t.Fatalf("got p=%q errors %v", r.Policy, r.Errors)
			}
			for i, pos := range []int{10, 19, 28} {
				if r.Errors[i].Pos != pos {
					t.Errorf("error %d at %d, want %d: %v", i, r.Errors[i].Pos, pos, r.Errors[i])
				}
			}
			if r.EffectivePolicy() != "" {
				t.Errorf("effective policy %q without p and rua", r.EffectivePolicy())
			}
		}},
		{name: "invalid sp makes the record p=none", txt: "v=DMARC1; p=reject; sp=bogus; rua=mailto:a@x.example", check: func(t *testing.T, r *Record) {
			if !r.PolicyBroken() || r.EffectivePolicy() != "none" || r.EffectiveSubdomainPolicy() != "none" || r.EffectiveNonexistentPolicy() != "none" {
				t.Errorf("broken %v, effective %q %q %q", r.PolicyBroken(), r.EffectivePolicy(), r.EffectiveSubdomainPolicy(), r.EffectiveNonexistentPolicy())
			}
		}},
		{name: "empty np, no rua: no DMARC", txt: "v=DMARC1; p=reject; np=", check: func(t *testing.T, r *Record) {
			if r.EffectivePolicy() != "" || len(r.InvalidPolicy) != 1 {
				t.Errorf("effective %q, invalid %v", r.EffectivePolicy(), r.InvalidPolicy)
			}
		}},
		{name: "no p with rua is none", txt: "v=DMARC1; rua=mailto:a@x.example", check: func(t *testing.T, r *Record) {
			if r.EffectivePolicy() != "none" {
				t.Errorf("effective policy %q", r.EffectivePolicy())
			}
		}},
		{name: "duplicate tag", txt: "v=DMARC1; p=none; p=reject", check: func(t *testing.T, r *Record) {
			if r.Policy != "none" || len(r.Errors) != 1 || r.Errors[0].Pos != 18 || !strings.Contains(r.Errors[0].Msg, "appears again") {
				t.Errorf("got p=%q errors %v", r.Policy, r.Errors)
			}
		}},
		{name: "missing equals", txt: "v=DMARC1; p reject", check: func(t *testing.T, r *Record) {
			if len(r.Errors) != 1 || r.Errors[0].Pos != 10 {
				t.Errorf("errors = %v", r.Errors)
			}
		}},
		{name: "double semicolon", txt: "v=DMARC1;; p=none", check: func(t *testing.T, r *Record) {
			if r.Policy != "none" || len(r.Errors) != 1 || r.Errors[0].Pos != 9 {
				t.Errorf("errors = %v", r.Errors)
			}
		}},
		{name: "bad uris", txt: "v=DMARC1; p=none; rua=dmarc@x.example,mailto:nobody,mailto:a@x.example!big", check: func(t *testing.T, r *Record) {
			if len(r.RUA) != 3 || r.RUA[0].Err == "" || r.RUA[1].Err == "" || r.RUA[2].Err == "" {
				t.Errorf("rua = %+v", r.RUA)
			}
			if r.hasUsableRUA() {
				t.Error("no usable rua expected")
			}
		}},
		{name: "control byte in value", txt: "v=DMARC1; p=no\x01ne", check: func(t *testing.T, r *Record) {
			if len(r.Errors) != 1 || r.Errors[0].Pos != 14 {
				t.Errorf("errors = %v", r.Errors)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.txt)
			if tc.notDMARC {
				if !errors.Is(err, ErrNotDMARC) {
					t.Fatalf("err = %v, want ErrNotDMARC", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDMARC: %v", err)
			}
			if r.Raw != tc.txt {
				t.Errorf("raw = %q", r.Raw)
			}
			tc.check(t, r)
		})
	}
}

func TestDMARCWalkTargets(t *testing.T) {
	tests := []struct {
		domain string
		want   []string
	}{
		{"example.com", []string{"example.com", "com"}},
		{"a.mail.example.com", []string{"a.mail.example.com", "mail.example.com", "example.com", "com"}},
		// 8 labels: the domain, then 7, 6, ... 1 labels: 8 queries.
		{"a.b.c.d.e.f.example.com", []string{"a.b.c.d.e.f.example.com", "b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com", "e.f.example.com", "f.example.com", "example.com", "com"}},
		// 10 labels: jump to the last 7 labels after the first query.
		{"x.y.a.b.c.d.e.f.example.com", []string{"x.y.a.b.c.d.e.f.example.com", "b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com", "e.f.example.com", "f.example.com", "example.com", "com"}},
		{"Example.COM.", []string{"example.com", "com"}},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			got := WalkTargets(tc.domain)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
			if len(got) > MaxWalkQueries {
				t.Errorf("%d targets", len(got))
			}
		})
	}
	long := strings.Repeat("l.", 60) + "example.com"
	if n := len(WalkTargets(long)); n != MaxWalkQueries {
		t.Errorf("62 labels: %d targets", n)
	}
}

func TestOrgDomain7489(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":           "example.com",
		"mail.example.com":      "example.com",
		"a.b.example.co.uk":     "example.co.uk",
		"alice.github.io":       "alice.github.io", // private PSL section
		"co.uk":                 "co.uk",           // a public suffix is its own
		"com":                   "com",
		"Mail.Example.COM.":     "example.com",
		"x.y.unlisted-tld-test": "y.unlisted-tld-test", // default rule "*"
	} {
		if got := OrgDomain7489(in); got != want {
			t.Errorf("OrgDomain7489(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupDMARCFindings(t *testing.T) {
	srv := dnstest.Start(t, testworld.ReadZone(t, "testdata/dmarc/world.zone"))
	servfail := dnstest.Fault{Rcode: dns.RcodeServerFailure}
	drop := dnstest.Fault{Drop: true}
	type fault struct {
		name string
		f    dnstest.Fault
	}
	tests := []struct {
		name    string
		domain  string
		faults  []fault
		want    map[string]report.Severity // these findings, with these severities
		absent  []string                   // and not these
		publish string                     // a Publish line of some finding contains this
		check   func(t *testing.T, d *Result)
	}{
		{name: "good", domain: "good.example",
			want:   map[string]report.Severity{"dmarc.record": report.OK, "dmarc.policy": report.OK},
			absent: []string{"dmarc.no-rua", "dmarc.policy-none", "dmarc.org-domain-disagree", "dmarc.policy-disagree", "dmarc.syntax"},
			check: func(t *testing.T, d *Result) {
				if d.OrgDomain != "good.example" || d.OrgDomain7489 != "good.example" || d.PolicyDomain != "good.example" {
					t.Errorf("org %q/%q policy %q", d.OrgDomain, d.OrgDomain7489, d.PolicyDomain)
				}
				if len(d.Walk) != 2 {
					t.Errorf("walk of %d queries", len(d.Walk))
				}
			}},
		{name: "split strings joined", domain: "split.example",
			want: map[string]report.Severity{"dmarc.record": report.OK, "dmarc.policy": report.OK},
			check: func(t *testing.T, d *Result) {
				if d.Record.Policy != "reject" {
					t.Errorf("p = %q from %q", d.Record.Policy, d.Record.Raw)
				}
			}},
		{name: "inherited by a subdomain", domain: "sub.good.example",
			want: map[string]report.Severity{"dmarc.inherited": report.Info, "dmarc.policy": report.OK},
			check: func(t *testing.T, d *Result) {
				if d.PolicyDomain != "good.example" || d.PolicyFrom != "organizational-domain" || d.OrgDomain != "good.example" {
					t.Errorf("policy %q from %q, org %q", d.PolicyDomain, d.PolicyFrom, d.OrgDomain)
				}
			}},
		{name: "p=none", domain: "none.example", want: map[string]report.Severity{"dmarc.policy-none": report.Info},
			publish: `_dmarc.none.example. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@none.example"`},
		{name: "no rua", domain: "norua.example", want: map[string]report.Severity{"dmarc.no-rua": report.Warning},
			publish: `_dmarc.norua.example. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc-reports@norua.example"`},
		{name: "multiple records", domain: "multi.example",
			want:   map[string]report.Severity{"dmarc.multiple": report.Failure, "dmarc.missing": report.Failure},
			absent: []string{"dmarc.record"}},
		{name: "not v=DMARC1", domain: "badv.example",
			want:    map[string]report.Severity{"dmarc.not-dmarc1": report.Failure, "dmarc.missing": report.Failure},
			publish: `_dmarc.badv.example. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:d@badv.example"`},
		{name: "removed tags", domain: "removed.example",
			want:    map[string]report.Severity{"dmarc.removed-tag": report.Warning}, // pct=50 warns; rf, ri inform
			publish: `_dmarc.removed.example. 3600 IN TXT "v=DMARC1; p=reject; rf=afrf; ri=3600; rua=mailto:d@removed.example"`},
		{name: "unknown tag", domain: "unknown.example", want: map[string]report.Severity{"dmarc.unknown-tag": report.Info}},
		{name: "weak sp and np", domain: "weak.example",
			want:    map[string]report.Severity{"dmarc.weak-sp": report.Info, "dmarc.weak-np": report.Warning},
			publish: `_dmarc.weak.example. 3600 IN TXT "v=DMARC1; p=reject; np=quarantine; rua=mailto:d@weak.example"`},
		{name: "syntax error", domain: "syntax.example", want: map[string]report.Severity{"dmarc.syntax": report.Warning},
			check: func(t *testing.T, d *Result) {
				fs := reporttest.ByID(d.Findings(), "dmarc.syntax")
				if len(fs) != 1 || !strings.Contains(fs[0].Summary, "column 21") {
					t.Errorf("syntax findings %+v", fs)
				}
			}},
		{name: "test mode", domain: "testing.example", want: map[string]report.Severity{"dmarc.test-mode": report.Info}},
		{name: "no p, usable rua", domain: "nop.example", want: map[string]report.Severity{"dmarc.policy-invalid": report.Warning}},
		{name: "invalid sp", domain: "badsp.example", want: map[string]report.Severity{"dmarc.policy-invalid": report.Warning},
			absent:  []string{"dmarc.policy"},
			publish: `_dmarc.badsp.example. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:d@badsp.example"`},
		{name: "no p, no rua", domain: "nopnorua.example", want: map[string]report.Severity{"dmarc.policy-invalid": report.Failure}},
		{name: "missing", domain: "nothing.example", want: map[string]report.Severity{"dmarc.missing": report.Failure},
			publish: `_dmarc.nothing.example. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@nothing.example"`},
		{name: "only a non-DMARC TXT", domain: "other.example", want: map[string]report.Severity{"dmarc.missing": report.Failure},
			absent: []string{"dmarc.not-dmarc1"}},
		{name: "external destinations", domain: "ext.example",
			want:    map[string]report.Severity{"dmarc.report-auth": report.OK, "dmarc.report-unauthorized": report.Failure},
			publish: `ext.example._report._dmarc.noauth.example. 3600 IN TXT "v=DMARC1"`,
			check: func(t *testing.T, d *Result) {
				if len(d.Reports) != 3 {
					t.Errorf("%d report checks: %+v", len(d.Reports), d.Reports)
				}
			}},
		{name: "PSD policy applies", domain: "a.b.child.psdtest",
			want: map[string]report.Severity{"dmarc.inherited": report.Info, "dmarc.policy-disagree": report.Warning},
			check: func(t *testing.T, d *Result) {
				if d.PolicyFrom != "psd" || d.PolicyDomain != "psdtest" || d.OrgDomain != "child.psdtest" || d.PolicyDomain7489 != "" {
					t.Errorf("policy %q from %q, org %q, 7489 policy %q", d.PolicyDomain, d.PolicyFrom, d.OrgDomain, d.PolicyDomain7489)
				}
			}},
		{name: "RFC 9989 and RFC 7489 disagree", domain: "alice.github.io",
			want: map[string]report.Severity{"dmarc.org-domain-disagree": report.Warning, "dmarc.policy-disagree": report.Warning},
			check: func(t *testing.T, d *Result) {
				if d.OrgDomain != "github.io" || d.OrgDomain7489 != "alice.github.io" || d.PolicyDomain != "github.io" || d.PolicyDomain7489 != "" {
					t.Errorf("org %q/%q policy %q/%q", d.OrgDomain, d.OrgDomain7489, d.PolicyDomain, d.PolicyDomain7489)
				}
			}},
		{name: "size limit on a report URI", domain: "size.example", want: map[string]report.Severity{"dmarc.uri-size": report.Info}},
		{name: "the checked domain is a PSD", domain: "psdtest", want: map[string]report.Severity{"dmarc.psd": report.Info, "dmarc.record": report.OK}},
		{name: "psd=n stops the walk", domain: "stop.example",
			check: func(t *testing.T, d *Result) {
				if len(d.Walk) != 1 || d.OrgDomain != "stop.example" {
					t.Errorf("walk %d queries, org %q", len(d.Walk), d.OrgDomain)
				}
			}},

		// Failures of each lookup become unknown, never missing.
		{name: "own SERVFAIL", domain: "good.example", faults: []fault{{"_dmarc.good.example", servfail}},
			want: map[string]report.Severity{"dmarc.lookup-failed": report.Unknown}, absent: []string{"dmarc.missing", "dmarc.record"}},
		{name: "own timeout", domain: "good.example", faults: []fault{{"_dmarc.good.example", drop}},
			want: map[string]report.Severity{"dmarc.lookup-failed": report.Unknown}, absent: []string{"dmarc.missing", "dmarc.record"}},
		{name: "parent SERVFAIL, own record", domain: "good.example", faults: []fault{{"_dmarc.example", servfail}},
			want: map[string]report.Severity{"dmarc.record": report.OK, "dmarc.org-domain-unknown": report.Unknown}},
		{name: "parent timeout, own record", domain: "good.example", faults: []fault{{"_dmarc.example", drop}},
			want: map[string]report.Severity{"dmarc.record": report.OK, "dmarc.org-domain-unknown": report.Unknown}},
		{name: "parent SERVFAIL, no own record", domain: "sub.good.example", faults: []fault{{"_dmarc.good.example", servfail}},
			want: map[string]report.Severity{"dmarc.lookup-failed": report.Unknown}, absent: []string{"dmarc.missing", "dmarc.inherited"}},
		{name: "parent timeout, no own record", domain: "sub.good.example", faults: []fault{{"_dmarc.good.example", drop}},
			want: map[string]report.Severity{"dmarc.lookup-failed": report.Unknown}, absent: []string{"dmarc.missing", "dmarc.inherited"}},
		{name: "report authorisation SERVFAIL", domain: "ext.example", faults: []fault{{"ext.example._report._dmarc.noauth.example", servfail}},
			want: map[string]report.Severity{"dmarc.report-auth-unknown": report.Unknown, "dmarc.report-auth": report.OK}, absent: []string{"dmarc.report-unauthorized"}},
		{name: "report authorisation timeout", domain: "ext.example", faults: []fault{{"ext.example._report._dmarc.noauth.example", drop}},
			want: map[string]report.Severity{"dmarc.report-auth-unknown": report.Unknown}, absent: []string{"dmarc.report-unauthorized"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ClearFaults()
			for _, f := range tc.faults {
				srv.SetFault(f.name, dns.TypeTXT, f.f)
			}
			defer srv.ClearFaults()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d := Lookup(ctx, testworld.Client(t, srv), tc.domain)
			fs := d.Findings()
			got := reporttest.Severities(fs)
			for id, sev := range tc.want {
				if g, ok := got[id]; !ok || g != sev {
					t.Errorf("finding %s: got %v (present %v), want %v\nall: %v", id, g, ok, sev, got)
				}
			}
			for _, id := range tc.absent {
				if _, ok := got[id]; ok {
					t.Errorf("unexpected finding %s\nall: %v", id, got)
				}
			}
			if tc.publish != "" && !dmarcHasPublish(fs, tc.publish) {
				t.Errorf("no finding publishes %s\n%s", tc.publish, dmarcDumpPublish(fs))
			}
			if len(d.Walk) > MaxWalkQueries {
				t.Errorf("walk sent %d queries", len(d.Walk))
			}
			for _, f := range fs {
				if f.ID == "" || f.Summary == "" {
					t.Errorf("finding without id or summary: %+v", f)
				}
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

// The walk sends exactly the queries of RFC 9989's algorithm, and never more than 8.
func TestDMARCTreeWalkQueries(t *testing.T) {
	srv := dnstest.Start(t, testworld.ReadZone(t, "testdata/dmarc/world.zone"))
	r := dnscheck.NewStaticResolver()
	ctx := context.Background()
	walk := TreeWalk(ctx, r, "q.w.e.r.t.y.u.i.o.p.example")
	if len(r.Queries) != 8 || len(walk) != 8 {
		t.Fatalf("%d queries: %v", len(r.Queries), r.Queries)
	}
	if r.Queries[1] != "_dmarc.t.y.u.i.o.p.example. TXT" || r.Queries[7] != "_dmarc.example. TXT" {
		t.Errorf("queries %v", r.Queries)
	}
	// psd=y above the start stops the walk there.
	c := testworld.Client(t, srv)
	before := len(srv.Log())
	walk = TreeWalk(ctx, c, "a.b.child.psdtest")
	log := srv.Log()[before:]
	if len(walk) != 4 || len(log) != 4 || log[3] != "_dmarc.psdtest. TXT" {
		t.Errorf("walk %d, log %v", len(walk), log)
	}
	org, known := OrgDomain9989Walk("a.b.child.psdtest", walk)
	if org != "child.psdtest" || !known {
		t.Errorf("org %q known %v", org, known)
	}
}

// The RFC 9989 draft's examples of Organizational Domain Discovery.
func TestOrgDomain9989Examples(t *testing.T) {
	tests := []struct {
		name  string
		zone  []string
		start string
		want  string
	}{
		{"records at mail.example.com and example.com", []string{
			`_dmarc.mail.example.com. TXT "v=DMARC1; p=none"`,
			`_dmarc.example.com. TXT "v=DMARC1; p=reject"`}, "a.mail.example.com", "example.com"},
		{"only psd=y at com", []string{`_dmarc.com. TXT "v=DMARC1; p=reject; psd=y"`}, "a.mail.example.com", "example.com"},
		{"psd=n below a higher record", []string{
			`_dmarc.mail.example.com. TXT "v=DMARC1; p=none; psd=n"`,
			`_dmarc.example.com. TXT "v=DMARC1; p=reject"`}, "a.mail.example.com", "mail.example.com"},
		{"psd=y at the start does not count", []string{`_dmarc.example.com. TXT "v=DMARC1; p=reject; psd=y"`}, "example.com", "example.com"},
		{"no record", nil, "a.mail.example.com", "a.mail.example.com"},
		{"two records at one name are none", []string{
			`_dmarc.mail.example.com. TXT "v=DMARC1; p=none"`,
			`_dmarc.example.com. TXT "v=DMARC1; p=reject"`,
			`_dmarc.example.com. TXT "v=DMARC1; p=none"`}, "a.mail.example.com", "mail.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := dnscheck.NewStaticResolver(tc.zone...)
			org, known := OrgDomain9989(context.Background(), r, tc.start)
			if org != tc.want || !known {
				t.Errorf("org %q known %v, want %q", org, known, tc.want)
			}
		})
	}
}

// When the tree walk stops above the RFC 7489 Organizational Domain (psd=y
// on an intermediate name), RFC 7489 discovery sends its own query; its
// failure is unknown, not "no record".
func TestDMARC7489ExtraLookup(t *testing.T) {
	r := dnscheck.NewStaticResolver(
		`_dmarc.y.example.co.uk. TXT "v=DMARC1; p=none; psd=y"`,
		`_dmarc.example.co.uk. TXT "v=DMARC1; p=reject; rua=mailto:d@example.co.uk"`,
	)
	ctx := context.Background()
	d := Lookup(ctx, r, "x.y.example.co.uk")
	if d.Extra7489 == nil || d.PolicyDomain7489 != "example.co.uk" || d.PolicyDomain != "y.example.co.uk" || d.OrgDomain != "x.y.example.co.uk" {
		t.Fatalf("extra %v, 7489 policy %q, 9989 policy %q org %q", d.Extra7489, d.PolicyDomain7489, d.PolicyDomain, d.OrgDomain)
	}
	if ids := reporttest.Severities(d.Findings()); ids["dmarc.policy-disagree"] != report.Warning {
		t.Errorf("findings %v", ids)
	}
	r.Fail("_dmarc.example.co.uk", dns.TypeTXT, dnscheck.StatusServFail)
	d = Lookup(ctx, r, "x.y.example.co.uk")
	ids := reporttest.Severities(d.Findings())
	if ids["dmarc.lookup-7489-failed"] != report.Unknown {
		t.Errorf("findings %v", ids)
	}
	if _, ok := ids["dmarc.policy-disagree"]; ok {
		t.Errorf("disagreement claimed on a failed lookup: %v", ids)
	}
}

func TestRewriteDMARC(t *testing.T) {
	rec, err := Parse("v=DMARC1; P=none; pct=20; RUA=mailto:a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	got := rewriteDMARC("example.com", rec, map[string]string{"p": "quarantine", "pct": ""}, []string{"p"})
	want := `_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; RUA=mailto:a@example.com"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	long := strings.Repeat("x", 300)
	if q := dnscheck.QuoteTXT(long); q != `"`+long[:255]+`" "`+long[255:]+`"` {
		t.Errorf("long TXT not split at 255: %s", q)
	}
}

// BenchmarkLookupDMARC: discovery of a 4-label domain whose policy is
// inherited (a full 4-query walk) against dnstest with 2 ms per answer. The
// walk is sequential by design (each step depends on the last), so its cost
// is one round trip per label.
func BenchmarkLookupDMARC(b *testing.B) {
	srv, err := dnstest.New(`_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:d@reports.example.net"
example.com._report._dmarc.reports.example.net. 300 IN TXT "v=DMARC1"`)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.SetLatency(2 * time.Millisecond)
	for i := 0; i < b.N; i++ {
		c, _ := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{})
		d := Lookup(context.Background(), c, "a.mail.example.com")
		if d.PolicyDomain != "example.com" || len(d.Reports) != 1 || !d.Reports[0].Authorized {
			b.Fatalf("%+v", d)
		}
	}
}

func TestDMARCSPFAlignment(t *testing.T) {
	tests := []struct {
		from, mailFrom string
		pass, strict   bool
		aligned, ok    bool
	}{
		{"example.com", "example.com", true, false, true, true},
		{"example.com", "bounce.example.com", true, false, true, true},
		{"example.com", "bounce.example.com", true, true, false, false},
		{"example.com", "example.com", true, true, true, true},
		{"example.com", "esp.example.net", true, false, false, false},
		{"example.com", "example.com", false, false, true, false},
		{"a.example.co.uk", "b.example.co.uk", true, false, true, true},
		{"example.co.uk", "other.co.uk", true, false, false, false},
		{"alice.github.io", "bob.github.io", true, false, false, false},
		{"example.com", "", true, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.from+"/"+tc.mailFrom, func(t *testing.T) {
			a := SPFAlignment(tc.from, tc.mailFrom, tc.pass, tc.strict)
			if a.Aligned != tc.aligned || a.Pass != tc.ok {
				t.Errorf("aligned %v pass %v, want %v %v (%+v)", a.Aligned, a.Pass, tc.aligned, tc.ok, a)
			}
		})
	}
}

func TestAlignmentFindings(t *testing.T) {
	r := dnscheck.NewStaticResolver(
		`_dmarc.example.com. TXT "v=DMARC1; p=reject; rua=mailto:d@example.com"`,
		`_dmarc.github.io. TXT "v=DMARC1; p=reject"`,
	)
	ctx := context.Background()
	tests := []struct {
		name, from, mailFrom, spf string
		strict                    bool
		want                      string
		sev                       report.Severity
	}{
		{"aligned pass", "example.com", "bounce.example.com", "pass", false, "dmarc.spf-aligned", report.OK},
		{"strict not aligned", "example.com", "bounce.example.com", "pass", true, "dmarc.spf-not-aligned", report.Warning},
		{"other org", "example.com", "esp.example.net", "pass", false, "dmarc.spf-not-aligned", report.Warning},
		{"spf fails", "example.com", "example.com", "fail", false, "dmarc.spf-fail", report.Warning},
		{"spf temperror", "example.com", "example.com", "temperror", false, "dmarc.spf-alignment-unknown", report.Unknown},
		// RFC 9989 finds github.io as the Organizational Domain of both; RFC 7489 does not.
		{"standards disagree", "alice.github.io", "bob.github.io", "pass", false, "dmarc.spf-alignment-disagree", report.Warning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Lookup(ctx, r, tc.from)
			a := AlignSPF(ctx, r, tc.from, d.OrgDomain, d.OrgKnown, tc.mailFrom, tc.spf, tc.strict)
			d.Alignment = &a
			fs := reporttest.ByID(d.Findings(), tc.want)
			if len(fs) != 1 || fs[0].Severity != tc.sev {
				t.Errorf("want one %s %v, got %+v\nall %v", tc.want, tc.sev, fs, reporttest.Severities(d.Findings()))
			}
		})
	}
}

func dmarcHasPublish(fs []report.Finding, want string) bool {
	for _, f := range fs {
		for _, p := range f.Publish {
			if p == want {
				return true
			}
		}
	}
	return false
}

func dmarcDumpPublish(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		for _, p := range f.Publish {
			b.WriteString(f.ID + ": " + p + "\n")
		}
	}
	return b.String()
}

// FuzzParseDMARC: the parser never panics, positions stay inside the record,
// and a record it accepts starts with v=DMARC1.
func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject; rua=mailto:a@x.example",
		"v=DMARC1;p=none;sp=reject;np=quarantine;adkim=s;aspf=r;fo=1:d:s;psd=y;t=y;ruf=mailto:f@x.example!10m",
		"v=DMARC1; pct=50; rf=afrf; ri=3600",
		"v=DMARC1;; p ; =x; rua=,,;",
		"v=dmarc1", "", ";", "v=DMARC1; rua=mailto:%40@@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if r != nil {
				t.Fatal("record with error")
			}
			return
		}
		if rest := strings.TrimLeft(s, " \t\r\n"); !strings.HasPrefix(rest, "v") && !strings.HasPrefix(rest, "V") {
			t.Fatalf("accepted %q", s)
		}
		for _, e := range r.Errors {
			if e.Pos < 0 || e.Pos > len(s) {
				t.Fatalf("error position %d outside %q", e.Pos, s)
			}
		}
		for _, tg := range r.Tags {
			if tg.Pos < 0 || tg.Pos >= len(s) || !strings.HasPrefix(s[tg.Pos:], tg.Name) {
				t.Fatalf("tag %+v not at its position in %q", tg, s)
			}
		}
		_ = r.EffectiveNonexistentPolicy()
		d := &Result{Domain: "example.com", Walk: []Query{{Domain: "example.com", Record: r, Answer: dnscheck.Answer{Status: dnscheck.StatusOK}}},
			PolicyDomain: "example.com", PolicyFrom: "domain", Record: r, OrgDomain: "example.com", OrgKnown: true, OrgDomain7489: "example.com", PolicyDomain7489: "example.com"}
		_ = d.Findings()
	})
}
