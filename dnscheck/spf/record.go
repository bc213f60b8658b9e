package spf

// The record grammar of RFC 7208 (§4.5, §4.6, §5, §6 and the ABNF of §12)
// and the public types of the package.

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/report"
)

// Result is the result of check_host() (RFC 7208 §2.6).
type Result string

const (
	None      Result = "none"      // no SPF record, or no usable domain (§2.6.1)
	Neutral   Result = "neutral"   // the domain asserts nothing about the IP (§2.6.2)
	Pass      Result = "pass"      // the IP is authorized (§2.6.3)
	Fail      Result = "fail"      // the IP is explicitly not authorized (§2.6.4)
	SoftFail  Result = "softfail"  // probably not authorized (§2.6.5)
	TempError Result = "temperror" // a transient (DNS) error (§2.6.6)
	PermError Result = "permerror" // the record is broken (§2.6.7)
)

// Check is the value of the "spf" check part (what env.Await(ctx, "spf")
// returns, as *spf.Check): the linted record tree of a domain and the
// evaluations of the addresses the check was asked about.
type Check struct {
	Domain string `json:"domain"`
	Record string `json:"record"` // the raw v=spf1 record, "" if none
	// Status is the root record's status (see Node.Status): "ok" (one
	// valid record), "none", "multiple", "syntax-error", "unknown" (the TXT
	// lookup failed: temperror, never "none").
	Status string `json:"status"`
	Tree   *Node  `json:"tree,omitempty"`
	// Lookups and VoidLookups are the totals of the tree as evaluation would
	// count them if every term were reached (RFC 7208 §4.6.4): the worst case.
	Lookups     int `json:"lookups"`
	VoidLookups int `json:"void_lookups"`
	// Findings are the lint findings about the tree.
	Findings    []report.Finding `json:"-"`
	Evaluations []Evaluation     `json:"evaluations,omitempty"`

	memo *dnscheck.Memo // the lookups of the analysis, reused by Evaluate
}

// Evaluation is one run of check_host() for an IP address.
type Evaluation struct {
	IP     netip.Addr `json:"ip"`
	Sender string     `json:"sender"`
	HELO   string     `json:"helo,omitempty"`
	Domain string     `json:"domain"`
	Result Result     `json:"result"`
	Reason string     `json:"reason"`
	// Term is the deciding term ("-all", "include:_spf.example.net",
	// "redirect=..."), prefixed with the domain whose record holds it.
	Term        string `json:"term,omitempty"`
	Explanation string `json:"explanation,omitempty"` // exp= text when fail (§6.2)
	// Lookups and VoidLookups are what this evaluation counted (§4.6.4).
	Lookups     int `json:"lookups"`
	VoidLookups int `json:"void_lookups"`
	// Subject is what the evaluation was about ("MX mx1.example.com", "--ip").
	Subject string `json:"subject,omitempty"`
}

// Record is a parsed v=spf1 record.
type Record struct {
	Raw   string `json:"raw"`
	Terms []Term `json:"terms"`
	// Redirect and Exp point into Terms (nil when absent).
	Redirect *Term `json:"-"`
	Exp      *Term `json:"-"`
}

// Term is one directive or modifier of a record (RFC 7208 §4.6.1).
type Term struct {
	Pos       int    `json:"pos"` // byte offset of the term in the record
	Raw       string `json:"raw"`
	Qualifier byte   `json:"-"` // '+', '-', '~', '?' for mechanisms; 0 for modifiers
	// Mechanism is the lower-case mechanism name (all, include, a, mx, ptr,
	// ip4, ip6, exists); Modifier the lower-case modifier name (redirect,
	// exp, or an unknown one). Exactly one is set.
	Mechanism string `json:"mechanism,omitempty"`
	Modifier  string `json:"modifier,omitempty"`
	// DomainSpec is the unexpanded domain-spec (or a modifier's value); ""
	// when the mechanism defaults to the current domain.
	DomainSpec string `json:"domain_spec,omitempty"`
	// Net is the network of ip4/ip6.
	Net netip.Prefix `json:"net,omitzero"`
	// CIDR4 and CIDR6 are the dual-cidr-length of a and mx (-1: absent).
	CIDR4 int `json:"cidr4"`
	CIDR6 int `json:"cidr6"`
}

// QueriesDNS reports whether the term is one of those §4.6.4 counts against
// the limit of 10: include, a, mx, ptr, exists and redirect (not exp).
func (t Term) QueriesDNS() bool {
	switch t.Mechanism {
	case "include", "a", "mx", "ptr", "exists":
		return true
	}
	return t.Modifier == "redirect"
}

// result maps the qualifier to the result a match produces (§4.6.2).
func (t Term) result() Result {
	switch t.Qualifier {
	case '-':
		return Fail
	case '~':
		return SoftFail
	case '?':
		return Neutral
	}
	return Pass
}

// SyntaxError is a record that does not follow the RFC 7208 grammar. It
// makes check_host() return permerror (§4.6).
type SyntaxError struct {
	Pos  int    // byte offset in the record
	Term string // the offending term
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Term == "" {
		return fmt.Sprintf("at position %d: %s", e.Pos+1, e.Msg)
	}
	return fmt.Sprintf("at position %d, %q: %s", e.Pos+1, e.Term, e.Msg)
}

// IsRecord reports whether a TXT record is an SPF version 1 record: it
// starts with "v=spf1" (case-insensitively) followed by a space or the end
// (RFC 7208 §4.5). "v=spf10" is not one.
func IsRecord(txt string) bool {
	if len(txt) < 6 || !strings.EqualFold(txt[:6], "v=spf1") {
		return false
	}
	return len(txt) == 6 || txt[6] == ' '
}

// Parse parses a v=spf1 record. Every syntax error, anywhere in the
// record, is reported, not only the ones evaluation would reach (§4.6: "if
// there are any syntax errors anywhere in the record, check_host() returns
// immediately with the result permerror").
func Parse(txt string) (*Record, error) {
	rec := &Record{Raw: txt}
	if !IsRecord(txt) {
		return nil, &SyntaxError{Pos: 0, Msg: `the record does not start with "v=spf1"`}
	}
	// §3.1 / §4.6: records are 7-bit ASCII; terms are separated by SP only
	// (a tab, CR or LF inside a record is a syntax error).
	for i := 0; i < len(txt); i++ {
		if c := txt[i]; c > 0x7e || c < 0x20 {
			return nil, &SyntaxError{Pos: i, Term: termAt(txt, i), Msg: fmt.Sprintf("byte 0x%02x is not a printable ASCII character; records are 7-bit ASCII and terms are separated by spaces only", c)}
		}
	}
	for i := 6; i < len(txt); {
		if txt[i] == ' ' {
			i++
			continue
		}
		j := strings.IndexByte(txt[i:], ' ')
		if j < 0 {
			j = len(txt)
		} else {
			j += i
		}
		t, err := parseTerm(txt[i:j], i)
		if err != nil {
			return nil, err
		}
		rec.Terms = append(rec.Terms, t)
		i = j
	}
	for k := range rec.Terms {
		t := &rec.Terms[k]
		switch t.Modifier {
		case "redirect":
			if rec.Redirect != nil {
				return nil, &SyntaxError{Pos: t.Pos, Term: t.Raw, Msg: `a second "redirect" modifier; it may appear at most once (§6)`}
			}
			rec.Redirect = t
		case "exp":
			if rec.Exp != nil {
				return nil, &SyntaxError{Pos: t.Pos, Term: t.Raw, Msg: `a second "exp" modifier; it may appear at most once (§6)`}
			}
			rec.Exp = t
		}
	}
	return rec, nil
}

func termAt(txt string, i int) string {
	s := strings.LastIndexByte(txt[:i], ' ') + 1
	e := strings.IndexByte(txt[i:], ' ')
	if e < 0 {
		return txt[s:]
	}
	return txt[s : i+e]
}

func spfIsAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func spfIsAlnum(c byte) bool { return spfIsAlpha(c) || spfIsDigit(c) }
func spfIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseTerm parses one term (§4.6.1): a modifier is name "=" value, where
// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); anything else is a
// directive, [qualifier] mechanism.
func parseTerm(s string, pos int) (Term, error) {
	t := Term{Pos: pos, Raw: s, CIDR4: -1, CIDR6: -1}
	bad := func(format string, a ...any) (Term, error) {
		return Term{}, &SyntaxError{Pos: pos, Term: s, Msg: fmt.Sprintf(format, a...)}
	}
	// Modifier?
	n := 0
	if spfIsAlpha(s[0]) {
		n = 1
		for n < len(s) && (spfIsAlnum(s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.') {
			n++
		}
	}
	if n > 0 && n < len(s) && s[n] == '=' {
		t.Modifier = strings.ToLower(s[:n])
		t.DomainSpec = s[n+1:]
		switch t.Modifier {
		case "redirect", "exp":
			if err := checkDomainSpec(t.DomainSpec); err != nil {
				return bad("%s= needs a domain: %v", t.Modifier, err)
			}
		default:
			// Unknown modifiers are ignored, but their value must still be a
			// valid macro-string (§6, §7.1).
			if _, err := parseMacroString(t.DomainSpec, false); err != nil {
				return bad("modifier value: %v", err)
			}
		}
		return t, nil
	}
	rest := s
	switch s[0] {
	case '+', '-', '~', '?':
		t.Qualifier = s[0]
		rest = s[1:]
	default:
		t.Qualifier = '+'
	}
	m := 0
	for m < len(rest) && spfIsAlnum(rest[m]) {
		m++
	}
	name := strings.ToLower(rest[:m])
	arg := rest[m:]
	if m == 0 {
		if strings.ContainsRune(s, '=') {
			return bad("not a valid modifier name (name = ALPHA *( ALPHA / DIGIT / \"-\" / \"_\" / \".\" ))")
		}
		return bad("not a mechanism")
	}
	t.Mechanism = name
	// domainArg splits ":domain-spec" and the cidr suffix.
	switch name {
	case "all":
		if arg != "" {
			return bad(`"all" takes no argument`)
		}
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") {
			return bad("%q needs \":domain\"", name)
		}
		t.DomainSpec = arg[1:]
		if err := checkDomainSpec(t.DomainSpec); err != nil {
			return bad("%v", err)
		}
	case "ptr":
		if arg != "" {
			if arg[0] != ':' {
				return bad(`"ptr" takes only ":domain", no CIDR length`)
			}
			t.DomainSpec = arg[1:]
			if err := checkDomainSpec(t.DomainSpec); err != nil {
				return bad("%v", err)
			}
		}
	case "a", "mx":
		spec, c4, c6, err := splitDualCIDR(arg)
		if err != nil {
			return bad("%v", err)
		}
		t.CIDR4, t.CIDR6 = c4, c6
		if spec != "" {
			if spec[0] != ':' {
				return bad("unexpected %q after %q", spec, name)
			}
			t.DomainSpec = spec[1:]
			if err := checkDomainSpec(t.DomainSpec); err != nil {
				return bad("%v", err)
			}
		}
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return bad("%q needs \":address\"", name)
		}
		addr, bits := arg[1:], -1
		if i := strings.IndexByte(addr, '/'); i >= 0 {
			max := 32
			if name == "ip6" {
				max = 128
			}
			b, err := parseCIDRLen(addr[i+1:], max)
			if err != nil {
				return bad("%v", err)
			}
			addr, bits = addr[:i], b
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Zone() != "" {
			return bad("%q is not an IP address", addr)
		}
		if name == "ip4" && (!ip.Is4() || strings.Count(addr, ".") != 3) {
			return bad("%q is not an IPv4 address (dotted quad)", addr)
		}
		if name == "ip6" && !ip.Is6() {
			return bad("%q is not an IPv6 address", addr)
		}
		if bits < 0 {
			bits = ip.BitLen()
		}
		t.Net = netip.PrefixFrom(ip, bits)
	default:
		if strings.ContainsRune(s, '=') {
			return bad("not a valid modifier name (name = ALPHA *( ALPHA / DIGIT / \"-\" / \"_\" / \".\" ))")
		}
		return bad("unknown mechanism %q", name)
	}
	return t, nil
}

// parseCIDRLen parses a cidr length: "0" / %x31-39 0*nDIGIT, at most max
// (§12: no leading zeros).
func parseCIDRLen(s string, max int) (int, error) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("invalid CIDR length %q", s)
	}
	for i := 0; i < len(s); i++ {
		if !spfIsDigit(s[i]) {
			return 0, fmt.Errorf("invalid CIDR length %q", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, fmt.Errorf("CIDR length /%s is out of range (0-%d)", s, max)
	}
	return n, nil
}

// splitDualCIDR splits "[:domain-spec][/ip4-cidr][//ip6-cidr]" (§5.3,
// §5.4). The cidr part is at the end: a domain-spec may itself contain "/".
func splitDualCIDR(arg string) (spec string, c4, c6 int, err error) {
	c4, c6 = -1, -1
	if i := strings.LastIndex(arg, "//"); i >= 0 && allDigits(arg[i+2:]) {
		if c6, err = parseCIDRLen(arg[i+2:], 128); err != nil {
			return "", 0, 0, err
		}
		arg = arg[:i]
	}
	if i := strings.LastIndexByte(arg, '/'); i >= 0 && allDigits(arg[i+1:]) {
		if c4, err = parseCIDRLen(arg[i+1:], 32); err != nil {
			return "", 0, 0, err
		}
		arg = arg[:i]
	}
	return arg, c4, c6, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !spfIsDigit(s[i]) {
			return false
		}
	}
	return true
}

// checkDomainSpec validates a domain-spec (§7.1):
//
//	domain-spec = macro-string domain-end
//	domain-end  = ( "." toplabel [ "." ] ) / macro-expand
//	toplabel    = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
func checkDomainSpec(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty domain")
	}
	toks, err := parseMacroString(spec, false)
	if err != nil {
		return err
	}
	last := toks[len(toks)-1]
	if last.letter != 0 || last.lit == "%_" || last.lit == "%-" || last.lit == "%%" {
		return nil // ends in a macro-expand
	}
	s := strings.TrimSuffix(spec, ".")
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return fmt.Errorf("%q is not a domain: it needs a dot and a top-level label", spec)
	}
	if !isTopLabel(s[i+1:]) {
		return fmt.Errorf("%q does not end in a valid top-level label", spec)
	}
	return nil
}

func isTopLabel(l string) bool {
	if l == "" {
		return false
	}
	hasAlpha := false
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case spfIsAlpha(c):
			hasAlpha = true
		case spfIsDigit(c):
		case c == '-':
			if i == 0 || i == len(l)-1 {
				return false
			}
		default:
			return false
		}
	}
	return hasAlpha || strings.Contains(l, "-")
}
