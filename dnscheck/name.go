package dnscheck

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// ErrBadDomain is wrapped by every error NormalizeDomain returns.
var ErrBadDomain = errors.New("invalid domain name")

// idnaProfile is the IDNA2008 lookup profile (UTS #46 mapping, so "Bücher.DE"
// becomes "xn--bcher-kva.de"), with hyphen checks off: existing mail hosts
// such as "r3---sn-abc.example" must stay checkable.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.CheckHyphens(false), idna.StrictDomainName(false), idna.BidiRule())

// NormalizeDomain turns user input into the lower-case A-label form without
// a trailing dot, or says precisely why it cannot: empty, an IP address where
// a domain is expected, a label over 63 octets, a name over 253 octets, a
// character that cannot appear in a host name.
func NormalizeDomain(input string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDomain)
	}
	s = strings.TrimSuffix(s, ".")
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return "", fmt.Errorf("%w: %q is an IP address, not a domain", ErrBadDomain, input)
	}
	if s == "" || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return "", fmt.Errorf("%w: %q has an empty label", ErrBadDomain, input)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %q is not valid UTF-8", ErrBadDomain, input)
	}
	ascii, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadDomain, input, err)
	}
	// An A-label must decode to a valid U-label (RFC 5891 §5.4): "xn--zn7c"
	// is ASCII, but not a name anyone can register.
	if _, err := idnaProfile.ToUnicode(ascii); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadDomain, input, err)
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return "", fmt.Errorf("%w: %q is %d octets long; the limit is 253", ErrBadDomain, input, len(ascii))
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" {
			return "", fmt.Errorf("%w: %q has an empty label", ErrBadDomain, input)
		}
		if len(label) > 63 {
			return "", fmt.Errorf("%w: label %q is %d octets long; the limit is 63", ErrBadDomain, label, len(label))
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return "", fmt.Errorf("%w: %q contains %q, which cannot appear in a host name", ErrBadDomain, input, c)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%w: label %q starts or ends with a hyphen", ErrBadDomain, label)
		}
	}
	labels := strings.Split(ascii, ".")
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		// RFC 3696 §2: top-level domains are never all-numeric; such a
		// name is a mistyped address.
		return "", fmt.Errorf("%w: %q ends in the all-numeric label %q; top-level domains are never numeric (an IP address?)", ErrBadDomain, input, tld)
	}
	if !strings.Contains(ascii, ".") {
		// A single label is not a mail domain on the internet (RFC 7085 dotless domains are not usable for mail).
		return "", fmt.Errorf("%w: %q has a single label; give the full domain (e.g. %s.com)", ErrBadDomain, input, ascii)
	}
	return ascii, nil
}

// IsHostname reports whether name (with or without trailing dot) is a valid
// host name per RFC 952/1123: letters, digits, hyphens, labels of 1-63 octets
// not starting or ending with a hyphen. Used to judge PTR targets.
func IsHostname(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}

// QueryName turns a name as SPF builds it (raw octets, dot-separated) into
// the presentation form the resolver takes, escaping what miekg/dns would
// otherwise read as syntax (§7.3 expansions may contain spaces, quotes...).
func QueryName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' || c == '$' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x21 || c > 0x7e:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return dns.Fqdn(b.String())
}
