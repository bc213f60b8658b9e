package spf

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"
)

func TestParseSPF(t *testing.T) {
	for _, tc := range []struct {
		rec     string
		terms   int
		errPos  int    // 1-based; 0: valid
		errText string // part of the error message
	}{
		{rec: "v=spf1", terms: 0},
		{rec: "v=spf1 -all", terms: 1},
		{rec: "V=SPF1   a  -ALL ", terms: 2},
		{rec: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:mail.example.com/28//64 mx//0 ~all", terms: 5},
		{rec: "v=spf1 include:_spf.example.net exists:%{ir}.%{l1r+-}._spf.%{d} redirect=example.net", terms: 3},
		{rec: "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", terms: 3},
		{rec: "v=spf1 a:foo:bar/baz.example.com", terms: 1},
		{rec: "v=spf1 exp=explain._spf.%{d} -all", terms: 2},
		{rec: "v=spf1 a:a-1.example.1-2", terms: 1},
		{rec: "v=spf10", errPos: 1, errText: "v=spf1"},
		{rec: "v=spf1 ip4:1.2.3.4 -all moo", errPos: 25, errText: "unknown mechanism"},
		{rec: "v=spf1 -all.", errPos: 8},
		{rec: "v=spf1 -all:foo", errPos: 8, errText: "no argument"},
		{rec: "v=spf1 a/33", errPos: 8, errText: "out of range"},
		{rec: "v=spf1 a//129", errPos: 8},
		{rec: "v=spf1 a/024", errPos: 8, errText: "CIDR"},
		{rec: "v=spf1 ip4:1.2.3.4/33", errPos: 8},
		{rec: "v=spf1 ip4:1.2.3", errPos: 8},
		{rec: "v=spf1 ip4:2001:db8::1", errPos: 8, errText: "IPv4"},
		{rec: "v=spf1 ip6:1.2.3.4", errPos: 8, errText: "IPv6"},
		{rec: "v=spf1 ptr/0 -all", errPos: 8},
		{rec: "v=spf1 include -all", errPos: 8},
		{rec: "v=spf1 a:museum", errPos: 8, errText: "dot"},
		{rec: "v=spf1 a:1.2.3.4", errPos: 8, errText: "top-level"},
		{rec: "v=spf1 redirect=a.example redirect=b.example", errPos: 27, errText: "second"},
		{rec: "v=spf1 exp=a.example exp=b.example", errPos: 22, errText: "second"},
		{rec: "v=spf1 exp= -all", errPos: 8},
		{rec: "v=spf1 redirect:t2.example.com", errPos: 8},
		{rec: "v=spf1 moo.cow/far_out=man:dog/cat", errPos: 8, errText: "modifier name"},
		{rec: "v=spf1 a:%{x}.example.com", errPos: 8, errText: "macro letter"},
		{rec: "v=spf1 a:%{c}.example.com", errPos: 8, errText: "explanation"},
		{rec: "v=spf1 a:%{d0}.example.com", errPos: 8, errText: "non-zero"},
		{rec: "v=spf1 a:foo%.example.com", errPos: 8},
		{rec: "v=spf1 a:example.com\rptr", errPos: 21, errText: "0x0d"},
		{rec: "v=spf1 a:\xc3\xafexample.com", errPos: 10, errText: "0xc3"},
		{rec: "v=spf1 - all", errPos: 8},
	} {
		t.Run(tc.rec, func(t *testing.T) {
			rec, err := Parse(tc.rec)
			if tc.errPos == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if len(rec.Terms) != tc.terms {
					t.Errorf("%d terms, want %d: %+v", len(rec.Terms), tc.terms, rec.Terms)
				}
				for _, term := range rec.Terms {
					if tc.rec[term.Pos:term.Pos+len(term.Raw)] != term.Raw {
						t.Errorf("term %q does not sit at position %d", term.Raw, term.Pos)
					}
				}
				return
			}
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("want a syntax error, got %v", err)
			}
			if se.Pos+1 != tc.errPos || !strings.Contains(se.Error(), tc.errText) {
				t.Errorf("error %q at position %d, want position %d and %q", se.Error(), se.Pos+1, tc.errPos, tc.errText)
			}
		})
	}
}

func TestParseSPFDualCIDR(t *testing.T) {
	rec, err := Parse("v=spf1 a:x.example/24//64 mx//48 a/0 ip4:192.0.2.1 ip6:2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{24, 64}, {-1, 48}, {0, -1}}
	for i, w := range want {
		if rec.Terms[i].CIDR4 != w[0] || rec.Terms[i].CIDR6 != w[1] {
			t.Errorf("%s: cidr %d/%d, want %d/%d", rec.Terms[i].Raw, rec.Terms[i].CIDR4, rec.Terms[i].CIDR6, w[0], w[1])
		}
	}
	if rec.Terms[0].DomainSpec != "x.example" {
		t.Errorf("domain-spec %q", rec.Terms[0].DomainSpec)
	}
	if rec.Terms[3].Net.String() != "192.0.2.1/32" || rec.Terms[4].Net.String() != "2001:db8::1/128" {
		t.Errorf("nets %v %v", rec.Terms[3].Net, rec.Terms[4].Net)
	}
}

// TestSPFMacros runs the examples of RFC 7208 §7.4.
func TestSPFMacros(t *testing.T) {
	env4 := &macroEnv{ip: netip.MustParseAddr("192.0.2.3"), sender: "strong-bad@email.example.com",
		local: "strong-bad", domain: "email.example.com", helo: "mx.example.org"}
	env6 := *env4
	env6.ip = netip.MustParseAddr("2001:db8::cb01")
	for _, tc := range []struct {
		env  *macroEnv
		in   string
		want string
		exp  bool
	}{
		{env4, "%{s}", "strong-bad@email.example.com", false},
		{env4, "%{o}", "email.example.com", false},
		{env4, "%{d}", "email.example.com", false},
		{env4, "%{d4}", "email.example.com", false},
		{env4, "%{d3}", "email.example.com", false},
		{env4, "%{d2}", "example.com", false},
		{env4, "%{d1}", "com", false},
		{env4, "%{dr}", "com.example.email", false},
		{env4, "%{d2r}", "example.email", false},
		{env4, "%{l}", "strong-bad", false},
		{env4, "%{l-}", "strong.bad", false},
		{env4, "%{lr}", "strong-bad", false},
		{env4, "%{lr-}", "bad.strong", false},
		{env4, "%{l1r-}", "strong", false},
		{env4, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", false},
		{env4, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", false},
		{env4, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com", false},
		{env4, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", false},
		{env4, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", false},
		{&env6, "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com", false},
		{env4, "%{h}", "mx.example.org", false},
		{env4, "%{S}", "strong-bad%40email.example.com", false},
		{env4, "%%%_%-", "% %20", false},
		{env4, "%{p}", "unknown", false},
		{&env6, "%{c} via %{r}", "2001:db8::cb01 via unknown", true},
		{env4, "%{l+-_}", "strong.bad", false},
		{env4, "%{d200}", "email.example.com", false},
	} {
		got, err := tc.env.expand(context.Background(), tc.in, "email.example.com", tc.exp)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%{", "%{}", "%{z}", "%{d0}", "%{d2x}", "%", "%a", "%{t}"} {
		if _, err := env4.expand(context.Background(), bad, "x.example", false); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestTruncateDomain(t *testing.T) {
	long := strings.Repeat("abcdefghi.", 30) + "example.com."
	got := truncateDomain(long)
	if len(got) > 253 || !strings.HasSuffix(got, ".example.com") || strings.HasPrefix(got, ".") {
		t.Errorf("truncateDomain: %d octets, %q", len(got), got)
	}
}

// FuzzParseSPF checks that the parser never panics, that every term it
// accepts sits where it says, and that a parsed record re-parses to the
// same terms.
func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{"v=spf1 -all", "v=spf1 a:%{ir}.%{v}._spf.%{d2}/24//64 mx ptr:x.example exists:%{l}.x.example ~all",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net redirect=x.example exp=e.%{d}",
		"v=spf1 moo.cow=x%%y%_z%- ?all", "v=spf1 a:foo:bar/baz.example.com//0", "v=spf1 a/", "v=spf1 %{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := Parse(s)
		if err != nil {
			if se, ok := err.(*SyntaxError); !ok || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		raws := []string{"v=spf1"}
		for _, term := range rec.Terms {
			if term.Pos < 0 || term.Pos+len(term.Raw) > len(s) || s[term.Pos:term.Pos+len(term.Raw)] != term.Raw {
				t.Fatalf("term %q not at %d in %q", term.Raw, term.Pos, s)
			}
			if (term.Mechanism == "") == (term.Modifier == "") {
				t.Fatalf("term %q is neither or both mechanism and modifier", term.Raw)
			}
			raws = append(raws, term.Raw)
		}
		again, err := Parse(strings.Join(raws, " "))
		if err != nil || len(again.Terms) != len(rec.Terms) {
			t.Fatalf("re-parse of %q: %v", s, err)
		}
		env := &macroEnv{ip: netip.MustParseAddr("2001:db8::1"), sender: "a@b.example", local: "a", domain: "b.example", helo: "h.example"}
		for _, term := range rec.Terms {
			if term.DomainSpec != "" {
				if _, err := env.expand(context.Background(), term.DomainSpec, "d.example", false); err != nil {
					t.Fatalf("a parsed domain-spec %q does not expand: %v", term.DomainSpec, err)
				}
			}
		}
	})
}

// FuzzCheckHost evaluates arbitrary records (and the records they include)
// against a fixed zone: evaluation must end, never panic, and give one of
// the seven results with a reason.
func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"v=spf1 -all", "v=spf1 include:inc.fz.test ~all", "v=spf1 redirect=fz.test",
		"v=spf1 mx a/24 ptr exists:%{ir}.%{v}.x.fz.test -all exp=exp.fz.test", "v=spf1 a:%{d}.%{o}.%{l}.%{h}.%{p} ?all"} {
		f.Add(s, "192.0.2.1")
		f.Add(s, "2001:db8::1")
	}
	f.Fuzz(func(t *testing.T, rec, ip string) {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return
		}
		r := dnscheck.NewStaticResolver(
			`inc.fz.test. IN TXT "v=spf1 ip4:192.0.2.0/24 include:fz.test -all"`,
			`fz.test. IN MX 10 mx.fz.test.`, `mx.fz.test. IN A 192.0.2.2`, `mx.fz.test. IN AAAA 2001:db8::2`,
			`exp.fz.test. IN TXT "%{i} %{c} %{r} %{t}"`,
			`1.2.0.192.in-addr.arpa. IN PTR mx.fz.test.`)
		r.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "fz.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: []string{rec}})
		ev := CheckHost(context.Background(), r, addr, "", "user@fz.test", "helo.fz.test")
		switch ev.Result {
		case None, Neutral, Pass, Fail, SoftFail, TempError, PermError:
		default:
			t.Fatalf("result %q", ev.Result)
		}
		if ev.Reason == "" || ev.Lookups > MaxLookups+1 || ev.VoidLookups > MaxVoidLookups+1 {
			t.Fatalf("evaluation %+v", ev)
		}
		Analyze(context.Background(), r, "fz.test")
	})
}
