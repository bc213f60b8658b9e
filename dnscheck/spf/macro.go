package spf

// SPF macros (RFC 7208 §7). A domain-spec or an explanation may contain
// %{letter[digits][r][delimiters]} expansions:
//
//	s  <sender>                 l  local-part of <sender>   o  domain of <sender>
//	d  <domain> being checked   i  <ip> (IPv6: dotted nibbles)
//	p  the validated domain name of <ip> (§5.5; discouraged)
//	v  "in-addr" or "ip6"       h  HELO/EHLO domain
//	c  SMTP client IP, readable (exp only)   r  receiving host (exp only)
//	t  current timestamp (exp only)
//
// The value is split on the delimiters (default "."), optionally reversed,
// the right-most DIGITS parts kept, and joined with "."; an upper-case
// letter URL-escapes the result (§7.3). "%%", "%_" and "%-" are a percent,
// a space and "%20". Any other character after "%" is a syntax error.

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// macroTok is one piece of a macro-string: a literal or an expansion.
type macroTok struct {
	lit       string // literal text (including "%%", "%_", "%-" in raw form)
	letter    byte   // lower-case macro letter; 0 for a literal
	upper     bool   // URL-escape the expansion
	digits    int    // keep this many right-hand parts; 0 = all
	reverse   bool
	delims    string // "" = "."
	exactText string // the raw %{...} text, for messages
}

// parseMacroString tokenizes a macro-string (§7.1). In explanation text
// (exp=true) spaces are allowed and c, r, t are valid letters.
func parseMacroString(s string, exp bool) ([]macroTok, error) {
	var toks []macroTok
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			if !exp && (c < 0x21 || c > 0x7e) || exp && (c < 0x20 || c > 0x7e) {
				return nil, fmt.Errorf("character 0x%02x at offset %d is not allowed in a macro-string", c, i)
			}
			j := i
			for j < len(s) && s[j] != '%' {
				j++
			}
			toks = append(toks, macroTok{lit: s[i:j]})
			if !exp && strings.ContainsRune(s[i:j], ' ') {
				return nil, fmt.Errorf("space in a domain-spec")
			}
			i = j
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("a lone %% at the end; write %%%% for a percent sign")
		}
		switch s[i+1] {
		case '%', '_', '-':
			toks = append(toks, macroTok{lit: s[i : i+2]})
			i += 2
			continue
		case '{':
		default:
			return nil, fmt.Errorf("%q is not a macro; write %%%% for a percent sign", s[i:i+2])
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unterminated macro %q", s[i:])
		}
		body := s[i+2 : i+end]
		raw := s[i : i+end+1]
		i += end + 1
		if body == "" {
			return nil, fmt.Errorf("empty macro %q", raw)
		}
		t := macroTok{exactText: raw}
		l := body[0]
		t.letter = l | 0x20
		t.upper = l >= 'A' && l <= 'Z'
		switch t.letter {
		case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
		case 'c', 'r', 't':
			if !exp {
				return nil, fmt.Errorf("macro %q: the letters c, r and t are allowed only in explanation text (§7.2)", raw)
			}
		default:
			return nil, fmt.Errorf("macro %q: unknown macro letter %q", raw, l)
		}
		k := 1
		for k < len(body) && spfIsDigit(body[k]) {
			k++
		}
		if k > 1 {
			n, err := strconv.Atoi(body[1:k])
			if err != nil || n == 0 {
				return nil, fmt.Errorf("macro %q: the number of parts must be a non-zero number (§7.3)", raw)
			}
			if n > 128 {
				n = 128 // more parts than any name has: all of them (§7.3)
			}
			t.digits = n
		}
		if k < len(body) && (body[k] == 'r' || body[k] == 'R') {
			t.reverse = true
			k++
		}
		t.delims = body[k:]
		for ; k < len(body); k++ {
			if !strings.ContainsRune(".-+,/_=", rune(body[k])) {
				return nil, fmt.Errorf("macro %q: %q is not a delimiter (one of . - + , / _ =)", raw, body[k])
			}
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		toks = append(toks, macroTok{})
	}
	return toks, nil
}

// macroEnv is what macros expand from.
type macroEnv struct {
	ip     netip.Addr
	sender string // the full <sender>, postmaster@helo for a null sender
	local  string
	domain string // sender's domain (o)
	helo   string
	// validated returns the validated domain name of ip for %{p} (§5.5);
	// called lazily with the current <domain>.
	validated func(ctx context.Context, target string) string
	now       func() time.Time
}

// expand expands a macro-string for the current domain d (§7.3).
func (e *macroEnv) expand(ctx context.Context, s, d string, exp bool) (string, error) {
	toks, err := parseMacroString(s, exp)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range toks {
		if t.letter == 0 {
			switch t.lit {
			case "%%":
				b.WriteByte('%')
			case "%_":
				b.WriteByte(' ')
			case "%-":
				b.WriteString("%20")
			default:
				b.WriteString(t.lit)
			}
			continue
		}
		var v string
		switch t.letter {
		case 's':
			v = e.sender
		case 'l':
			v = e.local
		case 'o':
			v = e.domain
		case 'd':
			v = d
		case 'i':
			v = ipMacro(e.ip)
		case 'p':
			v = "unknown"
			if e.validated != nil {
				v = e.validated(ctx, d)
			}
		case 'v':
			v = "in-addr"
			if e.ip.Is6() {
				v = "ip6"
			}
		case 'h':
			v = e.helo
		case 'c':
			v = e.ip.String()
		case 'r':
			v = "unknown" // the receiving host: mxray is not one (§7.3 allows "unknown")
		case 't':
			now := time.Now
			if e.now != nil {
				now = e.now
			}
			v = strconv.FormatInt(now().Unix(), 10)
		}
		v = transformMacro(v, t)
		if t.upper {
			v = urlEscape(v)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// transformMacro splits on the delimiters, reverses, keeps the right-most
// parts and joins with dots (§7.3).
func transformMacro(v string, t macroTok) string {
	if t.digits == 0 && !t.reverse && (t.delims == "" || t.delims == ".") {
		return v
	}
	delims := t.delims
	if delims == "" {
		delims = "."
	}
	parts := splitAny(v, delims)
	if t.reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if t.digits > 0 && t.digits < len(parts) {
		parts = parts[len(parts)-t.digits:]
	}
	return strings.Join(parts, ".")
}

func splitAny(s, delims string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// ipMacro is %{i}: dotted decimal for IPv4, dotted nibbles for IPv6 (§7.3).
func ipMacro(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	b := ip.As16()
	var sb strings.Builder
	const hex = "0123456789abcdef"
	for i, x := range b {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteByte(hex[x>>4])
		sb.WriteByte('.')
		sb.WriteByte(hex[x&0xf])
	}
	return sb.String()
}

// urlEscape escapes everything outside RFC 3986 "unreserved" (§7.3).
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if spfIsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// hasMacro reports whether a domain-spec contains a macro that depends on
// the evaluation (anything but %%, %_ and %-).
func hasMacro(s string) bool {
	return strings.Contains(s, "%{")
}
