package dnscheck

// The text of TXT records that are lists of fields: the ";"-separated
// name=value records of MTA-STS (RFC 8461 §3.1), TLS-RPT (RFC 8460 §3) and
// BIMI, and the zone-file form in which mxray shows a record to publish
// (RFC 1035 §3.3.14, §5.1).

import (
	"fmt"
	"strings"
)

// RecordField is one name=value field of a TXT record or one key: value line of a
// policy, in the order received.
type RecordField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SplitRecord splits the ";"-separated fields of an MTA-STS,
// TLS-RPT or BIMI record (RFC 8461 §3.1, RFC 8460 §3, BIMI §4.2): the
// first field must be exactly version (trailing blanks allowed), a trailing
// ";" is allowed, an empty field elsewhere is not, every field is
// name=value, and "v" cannot appear again. trim also removes blanks around
// "=" (BIMI's grammar allows them; the other two do not).
func SplitRecord(txt, version string, trim bool) ([]RecordField, error) {
	fields := strings.Split(txt, ";")
	first := strings.TrimRight(fields[0], " \t")
	if trim {
		first = strings.Trim(first, " \t")
	}
	if first != version {
		return nil, fmt.Errorf("the record must start with %q (case-sensitive), got %q", version, Truncate(fields[0], 40))
	}
	var out []RecordField
	for i, f := range fields[1:] {
		f = strings.Trim(f, " \t")
		if f == "" {
			if i == len(fields)-2 { // a trailing ";" is allowed
				break
			}
			return nil, fmt.Errorf("empty field between \";\" delimiters")
		}
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("field %q has no \"=\"", Truncate(f, 40))
		}
		if trim {
			name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
		}
		if name == "v" {
			return nil, fmt.Errorf("the field \"v\" appears twice")
		}
		out = append(out, RecordField{Name: name, Value: value})
	}
	return out, nil
}

// IsExtName reports whether s is an sts-ext-name (RFC 8461 §3.1), also used by TLS-RPT (RFC 8460 §3):
// (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
func IsExtName(s string) bool {
	if len(s) < 1 || len(s) > 32 || !IsAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !IsAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// IsExtValue reports whether s is an sts-ext-value (RFC 8461 §3.1):
// 1*(%x21-3A / %x3C / %x3E-7E), i.e. visible ASCII except ";" and "=".
func IsExtValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ';' || c == '=' {
			return false
		}
	}
	return true
}

// Truncate shortens s to at most n bytes (on a rune boundary) for messages.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// QuoteTXT writes a TXT value in zone-file syntax, split into strings of at
// most 255 octets (RFC 1035 §3.3.14).
func QuoteTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	parts = append(parts, s)
	for i, p := range parts {
		parts[i] = "\"" + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `"`, `\"`) + "\""
	}
	return strings.Join(parts, " ")
}

// IsAlnum reports whether c is an ASCII letter or digit (ABNF ALPHA / DIGIT).
func IsAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
