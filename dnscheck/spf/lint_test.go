package spf

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// spfZone builds a StaticResolver from zone lines; "fail NAME TYPE STATUS"
// lines inject failures.
func spfZone(lines ...string) *dnscheck.StaticResolver {
	var zone []string
	var fails [][3]string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "fail" {
			fails = append(fails, [3]string{f[1], f[2], f[3]})
			continue
		}
		zone = append(zone, l)
	}
	r := dnscheck.NewStaticResolver(zone...)
	for _, f := range fails {
		st := dnscheck.StatusServFail
		if f[2] == "timeout" {
			st = dnscheck.StatusTimeout
		}
		r.Fail(f[0], dns.StringToType[f[1]], st)
	}
	return r
}

func manyLines(n int, f string) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf(f, i, i))
	}
	return out
}

func findingIDs(fs []report.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

func findFinding(fs []report.Finding, id string) *report.Finding {
	for i := range fs {
		if fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

func TestSPFLint(t *testing.T) {
	many := func(n int, f string) string {
		var s []string
		for i := 0; i < n; i++ {
			s = append(s, fmt.Sprintf(f, i))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name   string
		zone   []string
		want   []string // finding ids that must be present
		absent []string // ids that must not be
		sev    report.Severity
		check  func(t *testing.T, c *Check)
	}{
		{name: "missing", zone: []string{`ex.test. IN MX 10 mx.ex.test.`},
			want: []string{"spf.missing"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.missing"); len(f.Publish) != 1 || !strings.Contains(f.Publish[0], `"v=spf1 mx -all"`) {
					t.Errorf("publish %q", f.Publish)
				}
			}},
		{name: "missing, only type 99", zone: []string{`ex.test. IN SPF "v=spf1 -all"`},
			want: []string{"spf.missing"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.missing"); !strings.Contains(f.Cause, "type (99)") {
					t.Errorf("cause %q", f.Cause)
				}
			}},
		{name: "lookup failed is unknown, not missing", zone: []string{`ex.test. IN TXT "v=spf1 -all"`, "fail ex.test. TXT servfail"},
			want: []string{"spf.lookup-failed"}, absent: []string{"spf.missing"}, sev: report.Unknown},
		{name: "multiple records", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"`, `ex.test. IN TXT "v=spf1 include:_spf.esp.test ~all"`, `ex.test. IN TXT "google-site-verification=x"`},
			want: []string{"spf.multiple-records"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				f := findFinding(c.Findings, "spf.multiple-records")
				if len(f.Publish) != 1 || !strings.Contains(f.Publish[0], `"v=spf1 ip4:192.0.2.1 include:_spf.esp.test -all"`) {
					t.Errorf("publish %q", f.Publish)
				}
			}},
		{name: "syntax error with position", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 ip4:192.0.2.300 -all"`},
			want: []string{"spf.syntax-error"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				if c.Tree.ErrorPos != 22 {
					t.Errorf("error position %d, want 22", c.Tree.ErrorPos)
				}
				f := findFinding(c.Findings, "spf.syntax-error")
				if !strings.Contains(f.Summary, "position 22") || !strings.Contains(strings.Join(f.Evidence, "\n"), strings.Repeat(" ", 21)+"^") {
					t.Errorf("finding %+v", f)
				}
			}},
		{name: "split strings joined without a space", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1" "include:_spf.esp.test -all"`},
			want: []string{"spf.syntax-error"},
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.syntax-error"); !strings.Contains(strings.Join(f.Evidence, "\n"), "split into 2 strings") {
					t.Errorf("evidence %q", f.Evidence)
				}
			}},
		{name: "+all", zone: []string{`ex.test. IN TXT "v=spf1 mx +all"`, `ex.test. IN MX 10 mx.ex.test.`, `mx.ex.test. IN A 192.0.2.1`},
			want: []string{"spf.all-pass"}, sev: report.Failure},
		{name: "bare all is +all", zone: []string{`ex.test. IN TXT "v=spf1 all"`}, want: []string{"spf.all-pass"}},
		{name: "?all", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 ?all"`}, want: []string{"spf.all-neutral"}, sev: report.Info},
		{name: "no all", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1"`}, want: []string{"spf.no-all"}, sev: report.Info,
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.no-all"); f.Publish[0] != `ex.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"` {
					t.Errorf("publish %q", f.Publish)
				}
			}},
		{name: "redirect instead of all is fine", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 redirect=_spf.ex.test"`, `_spf.ex.test. IN TXT "v=spf1 ip4:192.0.2.2 -all"`},
			absent: []string{"spf.no-all", "spf.redirect-ignored"}, want: []string{"spf.ok"}, sev: report.OK},
		{name: "no all behind redirect", zone: []string{`ex.test. IN TXT "v=spf1 redirect=_spf.ex.test"`, `_spf.ex.test. IN TXT "v=spf1 ip4:192.0.2.2"`},
			want: []string{"spf.no-all"}},
		{name: "an include without all is fine", zone: []string{`ex.test. IN TXT "v=spf1 include:_spf.ex.test -all"`, `_spf.ex.test. IN TXT "v=spf1 ip4:192.0.2.2"`},
			absent: []string{"spf.no-all"}, want: []string{"spf.ok"}},
		{name: "ptr deprecated", zone: []string{`ex.test. IN TXT "v=spf1 ptr -all"`}, want: []string{"spf.ptr-deprecated"}, sev: report.Warning},
		{name: "type 99 present", zone: []string{`ex.test. IN TXT "v=spf1 -all"`, `ex.test. IN SPF "v=spf1 -all"`}, want: []string{"spf.type99"}, sev: report.Warning},
		{name: "udp size", zone: []string{`ex.test. IN TXT "v=spf1 ` + many(14, "ip4:192.0.2.%d") + ` -all"`,
			`ex.test. IN TXT "google-site-verification=` + strings.Repeat("x", 200) + `"`, `ex.test. IN TXT "ms=` + strings.Repeat("y", 100) + `"`},
			want: []string{"spf.udp-size"}, sev: report.Warning},
		{name: "long record", zone: []string{`ex.test. IN TXT "v=spf1 ` + many(20, "ip4:192.0.2.%d") + `" " ` + many(10, "ip4:198.51.100.%d") + ` -all"`},
			want: []string{"spf.record-long"}, absent: []string{"spf.syntax-error"}},
		{name: "include of a domain without SPF", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 include:gone.test -all"`, `gone.test. IN A 192.0.2.9`},
			want: []string{"spf.include-no-record"}, sev: report.Failure},
		{name: "include lookup failed", zone: []string{`ex.test. IN TXT "v=spf1 include:esp.test -all"`, "fail esp.test. TXT timeout"},
			want: []string{"spf.include-lookup-failed"}, absent: []string{"spf.include-no-record"}, sev: report.Unknown},
		{name: "redirect to a domain without SPF", zone: []string{`ex.test. IN TXT "v=spf1 redirect=gone.test"`},
			want: []string{"spf.redirect-no-record"}, sev: report.Failure},
		{name: "redirect ignored", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 redirect=_spf.ex.test -all"`},
			want: []string{"spf.redirect-ignored"}, absent: []string{"spf.redirect-no-record"},
			check: func(t *testing.T, c *Check) {
				if c.Lookups != 0 {
					t.Errorf("an ignored redirect counted: %d lookups", c.Lookups)
				}
			}},
		{name: "duplicate and overlapping ranges", zone: []string{`ex.test. IN TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.ex.test ip6:2001:db8::/32 ip6:2001:db8:1::1 -all"`,
			`_spf.ex.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.77 ~all"`},
			want: []string{"spf.duplicate-ip", "spf.overlapping-ip"},
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.overlapping-ip"); len(f.Evidence) != 2 {
					t.Errorf("overlaps %q", f.Evidence)
				}
			}},
		{name: "lookup limit exceeded, with the tree", zone: []string{
			`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 include:a.esp.test include:b.esp.test mx -all"`,
			`ex.test. IN MX 10 mx.ex.test.`, `mx.ex.test. IN A 192.0.2.25`,
			`a.esp.test. IN TXT "v=spf1 include:a1.esp.test include:a2.esp.test include:a3.esp.test ~all"`,
			`a1.esp.test. IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"`, `a2.esp.test. IN TXT "v=spf1 ip4:198.51.101.0/24 ~all"`,
			`a3.esp.test. IN TXT "v=spf1 a:x.esp.test a:y.esp.test a:z.esp.test ~all"`,
			`x.esp.test. IN A 203.0.113.1`, `y.esp.test. IN A 203.0.113.2`, `z.esp.test. IN A 203.0.113.3`,
			`b.esp.test. IN TXT "v=spf1 exists:%{i}.b.esp.test include:a1.esp.test ~all"`},
			want: []string{"spf.lookup-limit"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				// own 3 (2 includes + mx); a: 3 + a1 0 + a2 0 + a3 3; b: 2 + a1 0.
				if c.Lookups != 11 || c.Tree.Lookups != 3 || c.Tree.Children[0].TotalLookups != 6 || c.Tree.Children[1].TotalLookups != 2 {
					t.Errorf("lookups %d, root own %d, children %d, %d", c.Lookups, c.Tree.Lookups, c.Tree.Children[0].TotalLookups, c.Tree.Children[1].TotalLookups)
				}
				f := findFinding(c.Findings, "spf.lookup-limit")
				if !strings.Contains(f.Fix, "start with include:a.esp.test (7 lookups)") || !strings.Contains(f.Summary, "11/10 lookups") {
					t.Errorf("finding %+v", f)
				}
				lines := strings.Join(c.DetailLines(), "\n")
				for _, w := range []string{"ex.test [11/10 lookups, 0/2 void]", "├─ include:a.esp.test [6 lookups, 0 void]", "│  └─ include:a3.esp.test [3 lookups, 0 void]", "└─ include:b.esp.test [2 lookups, 0 void]"} {
					if !strings.Contains(lines, w) {
						t.Errorf("tree lacks %q:\n%s", w, lines)
					}
				}
				if findFinding(c.Findings, "spf.macro-target") != nil {
					t.Error("exists with a macro target is not an include")
				}
			}},
		{name: "near the limit", zone: []string{`ex.test. IN TXT "v=spf1 ` + many(9, "a:h%d.ex.test") + ` -all"`,
			`h0.ex.test. IN A 192.0.2.1`, `h1.ex.test. IN A 192.0.2.1`, `h2.ex.test. IN A 192.0.2.1`, `h3.ex.test. IN A 192.0.2.1`, `h4.ex.test. IN A 192.0.2.1`,
			`h5.ex.test. IN A 192.0.2.1`, `h6.ex.test. IN A 192.0.2.1`, `h7.ex.test. IN A 192.0.2.1`, `h8.ex.test. IN A 192.0.2.1`},
			want: []string{"spf.lookup-near-limit"}, absent: []string{"spf.lookup-limit"}, sev: report.Warning},
		{name: "void lookups", zone: []string{`ex.test. IN TXT "v=spf1 a:old1.ex.test a:old2.ex.test mx:old3.ex.test a -all"`, `ex.test. IN A 192.0.2.1`, `old3.ex.test. IN A 192.0.2.1`},
			want: []string{"spf.void-lookup", "spf.void-limit"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				if c.VoidLookups != 3 {
					t.Errorf("void %d, want 3", c.VoidLookups)
				}
				lines := strings.Join(c.DetailLines(), "\n")
				if !strings.Contains(lines, "· a:old1.ex.test → nxdomain (void lookup)") || !strings.Contains(lines, "· mx:old3.ex.test → nodata (void lookup)") {
					t.Errorf("tree lacks the void terms:\n%s", lines)
				}
			}},
		{name: "a host with only AAAA is not void", zone: []string{`ex.test. IN TXT "v=spf1 a:v6.ex.test -all"`, `v6.ex.test. IN AAAA 2001:db8::1`},
			absent: []string{"spf.void-lookup"}},
		{name: "include loop", zone: []string{`ex.test. IN TXT "v=spf1 include:a.ex.test -all"`, `a.ex.test. IN TXT "v=spf1 include:ex.test ~all"`},
			want: []string{"spf.include-loop", "spf.lookup-limit"}, sev: report.Failure},
		{name: "mx with more than 10 names", zone: append([]string{`ex.test. IN TXT "v=spf1 mx -all"`},
			manyLines(11, "ex.test. IN MX %d mx%d.ex.test.")...),
			want: []string{"spf.mx-too-many"}},
		{name: "terms after all", zone: []string{`ex.test. IN TXT "v=spf1 -all ip4:192.0.2.1"`}, want: []string{"spf.after-all"}},
		{name: "duplicate include", zone: []string{`ex.test. IN TXT "v=spf1 include:esp.test include:esp.test -all"`, `esp.test. IN TXT "v=spf1 ip4:192.0.2.1 ~all"`},
			want: []string{"spf.duplicate-include"}},
		{name: "errors deep in the tree are found even after a match", zone: []string{
			`ex.test. IN TXT "v=spf1 ip4:192.0.2.1 include:esp.test -all"`, `esp.test. IN TXT "v=spf1 include:broken.test ~all"`,
			`broken.test. IN TXT "v=spf1 ip4:1.2.3.4/40 ~all"`},
			want: []string{"spf.syntax-error"}, sev: report.Failure,
			check: func(t *testing.T, c *Check) {
				if f := findFinding(c.Findings, "spf.syntax-error"); f.Subject != "broken.test" || !strings.Contains(f.Summary, "include:broken.test in the record of esp.test") {
					t.Errorf("finding %+v", f)
				}
				// Evaluation stops at the first term; the lint does not.
				if ev := c.Evaluate(context.Background(), nil, mustAddr("192.0.2.1"), "", ""); ev.Result != Pass {
					t.Errorf("evaluation %+v", ev)
				}
				if ev := c.Evaluate(context.Background(), nil, mustAddr("192.0.2.2"), "", ""); ev.Result != PermError {
					t.Errorf("evaluation %+v", ev)
				}
			}},
		{name: "macro include", zone: []string{`ex.test. IN TXT "v=spf1 include:%{ir}._spf.ex.test -all"`},
			want: []string{"spf.macro-target"}},
		{name: "all good", zone: []string{`ex.test. IN TXT "v=spf1 mx include:esp.test -all"`, `ex.test. IN MX 10 mx.ex.test.`, `mx.ex.test. IN A 192.0.2.25`, `esp.test. IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"`},
			want: []string{"spf.ok", "spf.lookups"}, sev: report.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Analyze(context.Background(), spfZone(tc.zone...), "ex.test")
			ids := findingIDs(c.Findings)
			for _, w := range tc.want {
				if findFinding(c.Findings, w) == nil {
					t.Errorf("no %s finding; got %v", w, ids)
				}
			}
			for _, a := range tc.absent {
				if findFinding(c.Findings, a) != nil {
					t.Errorf("unexpected %s finding; got %v", a, ids)
				}
			}
			if tc.sev != 0 || tc.name == "all good" {
				if w := worstOf(c.Findings); w != tc.sev {
					t.Errorf("worst severity %s, want %s (%v)", w, tc.sev, ids)
				}
			}
			for _, f := range c.Findings {
				if f.Severity != report.OK && f.Summary == "" {
					t.Errorf("%s has no summary", f.ID)
				}
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestSPFLintTXTStringTooLong: a character-string over 255 octets cannot
// be sent on the wire, but reaches mxray from zone text (and from
// resolvers that hand out records as parsed from a zone file).
func TestSPFLintTXTStringTooLong(t *testing.T) {
	r := dnscheck.NewStaticResolver()
	long := "v=spf1 " + strings.Repeat("ip4:192.0.2.1 ", 20) + "-all"
	r.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "ex.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: []string{long}})
	c := Analyze(context.Background(), r, "ex.test")
	f := findFinding(c.Findings, "spf.txt-string-too-long")
	if f == nil {
		t.Fatalf("no finding: %v", findingIDs(c.Findings))
	}
	// The record to publish is split into strings of at most 255 octets.
	pub := f.Publish[0]
	if !strings.Contains(pub, `" "`) {
		t.Errorf("publish not split: %s", pub)
	}
	for _, part := range strings.Split(pub[strings.Index(pub, `"`):], `" "`) {
		if len(strings.Trim(part, `"`)) > 255 {
			t.Errorf("a published string is %d octets", len(part))
		}
	}
}

func TestSPFLintBadInput(t *testing.T) {
	for _, d := range []string{"localhost", "", "a..b.test", "[192.0.2.1]"} {
		c := Analyze(context.Background(), dnscheck.NewStaticResolver(), d)
		if f := findFinding(c.Findings, "spf.not-checked"); f == nil || f.Severity != report.Unknown {
			t.Errorf("%q: findings %v", d, findingIDs(c.Findings))
		}
		if ev := c.Evaluate(context.Background(), nil, mustAddr("192.0.2.1"), "", ""); ev.Result != None {
			t.Errorf("%q: evaluation %+v", d, ev)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := Analyze(ctx, spfZone(`ex.test. IN TXT "v=spf1 -all"`), "ex.test")
	if worstOf(c.Findings) != report.Unknown {
		t.Errorf("a cancelled check: %v", findingIDs(c.Findings))
	}
}
