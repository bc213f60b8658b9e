package recipients

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mxray/mxray/dnscheck"
)

// ErrBadAddress is wrapped by every error ParseAddress returns.
var ErrBadAddress = errors.New("invalid address")

// Address is a recipient (or sender) address split at its last "@".
type Address struct {
	Local  string // as written
	Domain string // normalised: lower case, A-labels, no trailing dot
}

func (a Address) String() string { return a.Local + "@" + a.Domain }

// maxLocal is the longest local part (RFC 5321 §4.5.3.1.1).
const maxLocal = 64

// ParseAddress parses a Mailbox of RFC 5321 §4.1.2 as a sender types it:
// Local-part "@" Domain, where the local part is a Dot-string (atoms of
// RFC 5322 atext, UTF-8 allowed as RFC 6531 allows) or a Quoted-string,
// and the domain is a host name (address literals cannot be looked up).
// The error says precisely what is wrong.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return Address{}, fmt.Errorf("%w: %q has no @", ErrBadAddress, s)
	}
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	if strings.HasPrefix(domain, "[") {
		return Address{}, fmt.Errorf("%w: %q: an address literal has no MX to look up", ErrBadAddress, s)
	}
	d, err := dnscheck.NormalizeDomain(domain)
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	return Address{Local: local, Domain: d}, nil
}

// checkLocal checks a Local-part (RFC 5321 §4.1.2).
func checkLocal(local string) error {
	switch {
	case local == "":
		return errors.New("empty local part")
	case len(local) > maxLocal:
		return fmt.Errorf("the local part is %d octets; the limit is %d (RFC 5321 §4.5.3.1.1)", len(local), maxLocal)
	case !utf8.ValidString(local):
		return errors.New("the local part is not UTF-8")
	case strings.HasPrefix(local, `"`):
		return checkQuoted(local)
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return errors.New("the local part has an empty atom (a leading, trailing or double dot)")
		}
		for _, r := range atom {
			if !isAtext(r) {
				return fmt.Errorf("the local part contains %q, which needs quoting", r)
			}
		}
	}
	return nil
}

// checkQuoted checks a Quoted-string: qtextSMTP or a backslash pair.
func checkQuoted(local string) error {
	if len(local) < 2 || !strings.HasSuffix(local, `"`) {
		return errors.New("an unterminated quoted local part")
	}
	in := local[1 : len(local)-1]
	for i := 0; i < len(in); i++ {
		switch c := in[i]; {
		case c == '\\':
			if i+1 >= len(in) || in[i+1] < 32 || in[i+1] > 126 {
				return errors.New("a bad quoted pair in the local part")
			}
			i++
		case c == '"' || c < 32 || c == 127:
			return fmt.Errorf("the quoted local part contains %q", c)
		}
	}
	return nil
}

// isAtext is RFC 5322 §3.2.3 atext, extended by RFC 6532 §3.2 with UTF-8.
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r >= 0x80:
		return r != utf8.RuneError
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// roleLocals are the role mailbox names of RFC 2142 (§3 business, §4
// network operations, §5 support services): they reach a function or a
// team, not a person who subscribed.
var roleLocals = map[string]bool{
	"info": true, "marketing": true, "sales": true, "support": true,
	"abuse": true, "noc": true, "security": true,
	"postmaster": true, "hostmaster": true, "usenet": true, "news": true,
	"webmaster": true, "www": true, "uucp": true, "ftp": true,
}

// Role reports whether the address is a role mailbox of RFC 2142.
func (a Address) Role() bool { return roleLocals[strings.ToLower(a.Local)] }
