package dnscheck

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	good := map[string]string{
		"example.com":                    "example.com",
		"Example.COM.":                   "example.com",
		"  mail.example.org  ":           "mail.example.org",
		"bücher.de":                      "xn--bcher-kva.de",
		"BÜCHER.de":                      "xn--bcher-kva.de",
		"пример.рф":                      "xn--e1afmkfd.xn--p1ai",
		"xn--bcher-kva.de":               "xn--bcher-kva.de",
		"_dmarc.example.com":             "_dmarc.example.com",
		strings.Repeat("a", 63) + ".com": strings.Repeat("a", 63) + ".com",
	}
	for in, want := range good {
		got, err := NormalizeDomain(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                "empty",
		"   ":                             "empty",
		".":                               "empty label",
		"a..b.com":                        "empty label",
		".example.com":                    "empty label",
		"192.0.2.1":                       "IP address",
		"[2001:db8::1]":                   "IP address",
		"2001:db8::1":                     "IP address",
		strings.Repeat("a", 64) + ".com":  "limit is 63",
		strings.Repeat("a.", 127) + "com": "limit is 253",
		"exa mple.com":                    "",
		"example.com/path":                "",
		"user@example.com":                "",
		"-bad.example.com":                "hyphen",
		"localhost":                       "single label",
		"0.0.0.0.":                        "IP address",
		"1.2.3.4.5":                       "all-numeric",
	}
	for in, frag := range bad {
		_, err := NormalizeDomain(in)
		if err == nil {
			t.Errorf("NormalizeDomain(%q) accepted", in)
			continue
		}
		if !errors.Is(err, ErrBadDomain) || !strings.Contains(err.Error(), frag) {
			t.Errorf("NormalizeDomain(%q) error %q; want it to mention %q", in, err, frag)
		}
	}
}

func TestIsHostname(t *testing.T) {
	for name, want := range map[string]bool{
		"mail.example.com": true, "mail.example.com.": true, "a-b.c": true,
		"mail_1.example.com": false, "-a.com": false, "a-.com": false, "": false, "a..com": false,
		strings.Repeat("a", 64) + ".com": false,
	} {
		if got := IsHostname(name); got != want {
			t.Errorf("IsHostname(%q) = %v", name, got)
		}
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.de", "a..b", "192.0.2.1", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := NormalizeDomain(s)
		if err != nil {
			return
		}
		if len(d) > 253 || strings.HasSuffix(d, ".") || d != strings.ToLower(d) {
			t.Fatalf("NormalizeDomain(%q) = %q: not normalised", s, d)
		}
		if again, err := NormalizeDomain(d); err != nil || again != d {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, d, again, err)
		}
	})
}
