package dnscheck

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// HostAddrs is the A and AAAA lookup of one host name.
type HostAddrs struct {
	Name  string
	A     Answer
	AAAA  Answer
	Addrs []netip.Addr // IPv4 first, then IPv6, in answer order
}

// Failed reports whether either lookup failed (so the address list may be incomplete).
func (h HostAddrs) Failed() bool { return h.A.Failed() || h.AAAA.Failed() }

// LookupHost looks up A and AAAA for name concurrently.
func LookupHost(ctx context.Context, r Resolver, name string) HostAddrs {
	h := HostAddrs{Name: dns.CanonicalName(name)}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.A = r.Lookup(ctx, name, dns.TypeA) }()
	go func() { defer wg.Done(); h.AAAA = r.Lookup(ctx, name, dns.TypeAAAA) }()
	wg.Wait()
	h.Addrs = append(AddrsOf(h.A), AddrsOf(h.AAAA)...)
	return h
}

// AddrsOf extracts the addresses of A and AAAA records in an answer.
func AddrsOf(a Answer) []netip.Addr {
	var out []netip.Addr
	for _, rr := range a.Records {
		switch v := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// TXTStrings returns each TXT record of the answer as its character-strings
// joined without separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2), keeping the
// record order. The strings are unescaped: miekg/dns presents TXT data in
// zone-file form ("\\DDD", "\\\"", "\\\\"), and a parser must see the octets
// that were published.
func TXTStrings(a Answer) []string {
	var out []string
	for _, parts := range TXTParts(a) {
		out = append(out, strings.Join(parts, ""))
	}
	return out
}

// TXTParts returns each TXT record's character-strings, unescaped and
// unjoined (for lints about strings over 255 octets or odd splitting).
func TXTParts(a Answer) [][]string {
	var out [][]string
	for _, rr := range a.Records {
		if t, ok := rr.(*dns.TXT); ok {
			parts := make([]string, len(t.Txt))
			for i, s := range t.Txt {
				parts[i] = UnescapeTXT(s)
			}
			out = append(out, parts)
		}
	}
	return out
}

// UnescapeTXT turns one character-string from miekg/dns's presentation
// form back into its octets: "\\DDD" is a decimal octet, "\\X" is X.
func UnescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDecimalDigit(s[i+1]) && isDecimalDigit(s[i+2]) && isDecimalDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

// specialPrefixes are the IANA special-purpose ranges (RFC 6890 and its
// registries) that are not reachable on the public internet, with a name.
var specialPrefixes = []struct {
	p    netip.Prefix
	name string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" (RFC 791)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space / CGNAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (RFC 1112)"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// SpecialUse names the special-purpose range addr falls in, or "" when the
// address is globally routable.
func SpecialUse(addr netip.Addr) string {
	addr = addr.Unmap()
	for _, s := range specialPrefixes {
		if s.p.Contains(addr) {
			return s.name
		}
	}
	return ""
}
