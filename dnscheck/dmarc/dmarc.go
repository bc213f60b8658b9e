package dmarc

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/mxray/mxray/dnscheck"
)

// DMARC policy values, weakest first.
const (
	None       = "none"
	Quarantine = "quarantine"
	Reject     = "reject"
)

// dmarcPolicyRank orders policies by strength; unknown values rank -1.
func dmarcPolicyRank(p string) int {
	switch p {
	case None:
		return 0
	case Quarantine:
		return 1
	case Reject:
		return 2
	}
	return -1
}

// ErrNotDMARC is returned for a TXT record that does not start with v=DMARC1.
var ErrNotDMARC = errors.New("not a DMARC record: it does not start with v=DMARC1")

// URI is one report destination of rua or ruf.
type URI struct {
	Raw     string `json:"raw"`
	Scheme  string `json:"scheme,omitempty"`
	Address string `json:"address,omitempty"` // mailto: the addr-spec
	Domain  string `json:"domain,omitempty"`  // mailto: the address's domain, lower case
	Size    string `json:"size,omitempty"`    // the RFC 7489 "!size" suffix, obsolete in RFC 9989
	Err     string `json:"error,omitempty"`   // why the URI is unusable
}

// Record is one parsed DMARC record, with the raw text beside it.
type Record struct {
	Raw  string             `json:"raw"`
	Tags []dnscheck.TagSpec `json:"tags"`

	Policy            string `json:"p,omitempty"`  // "" when absent or invalid
	SubdomainPolicy   string `json:"sp,omitempty"` // "" when absent or invalid
	NonexistentPolicy string `json:"np,omitempty"` // "" when absent or invalid
	ADKIM             string `json:"adkim"`        // "r" or "s" (default r)
	ASPF              string `json:"aspf"`         // "r" or "s" (default r)
	PSD               string `json:"psd"`          // "y", "n" or "u" (default u)
	Testing           bool   `json:"testing"`      // t=y
	FO                string `json:"fo,omitempty"`
	RUA               []URI  `json:"rua,omitempty"`
	RUF               []URI  `json:"ruf,omitempty"`

	// InvalidPolicy lists p, sp, np tags present with a value that is not
	// none, quarantine or reject: RFC 9989 then treats the whole record as
	// p=none if rua= is usable, else applies no DMARC at all.
	InvalidPolicy []string                  `json:"invalid_policy,omitempty"`
	Removed       []dnscheck.TagSpec        `json:"removed,omitempty"` // pct, rf, ri: removed in RFC 9989
	Unknown       []dnscheck.TagSpec        `json:"unknown,omitempty"` // not in the IANA DMARC tag registry
	Errors        []dnscheck.TagSyntaxError `json:"errors,omitempty"`  // syntax and value errors, with positions
}

// Parse parses a DMARC record (the TXT strings already joined). It
// returns ErrNotDMARC (wrapped) when the record does not start with
// v=DMARC1: such a record is discarded by receivers. Every other problem is
// listed in Errors, with its position, and the rest of the record is still
// read, as receivers do.
func Parse(txt string) (*Record, error) {
	tags, errs := dnscheck.ParseTagList(txt)
	if len(tags) == 0 || !strings.EqualFold(tags[0].Name, "v") || tags[0].Pos != tlFirstPos(txt) {
		return nil, fmt.Errorf("%w", ErrNotDMARC)
	}
	// RFC 9989 "Formal Definition": dmarc-version = "v" equals %s"DMARC1", case-sensitive.
	if tags[0].Value != "DMARC1" {
		return nil, fmt.Errorf("%w (v=%s)", ErrNotDMARC, dnscheck.Clip(tags[0].Value))
	}
	rec := &Record{Raw: txt, Tags: tags, Errors: errs, ADKIM: "r", ASPF: "r", PSD: "u"}
	if tags[0].Pos != 0 {
		rec.Errors = append(rec.Errors, dnscheck.TagSyntaxError{Pos: 0, Msg: "whitespace before v=DMARC1; the record must start with it"})
	}
	for _, t := range tags[1:] {
		valueErr := func(format string, a ...any) {
			rec.Errors = append(rec.Errors, dnscheck.TagSyntaxError{Pos: t.Pos, Msg: fmt.Sprintf("%s=%s: ", t.Name, dnscheck.Clip(t.Value)) + fmt.Sprintf(format, a...)})
		}
		if t.Value == "" {
			valueErr("empty value")
			if n := strings.ToLower(t.Name); n == "p" || n == "sp" || n == "np" {
				rec.InvalidPolicy = append(rec.InvalidPolicy, n)
			}
			continue
		}
		// Tag names are ABNF literals in RFC 9989 "Formal Definition", so
		// they match case-insensitively; the registry spells them in lower case.
		switch name := strings.ToLower(t.Name); name {
		case "v":
			valueErr("v must be the first tag and appear once")
		case "p", "sp", "np":
			v := strings.ToLower(t.Value)
			if dmarcPolicyRank(v) < 0 {
				valueErr("want none, quarantine or reject")
				rec.InvalidPolicy = append(rec.InvalidPolicy, name)
				continue
			}
			switch name {
			case "p":
				rec.Policy = v
			case "sp":
				rec.SubdomainPolicy = v
			case "np":
				rec.NonexistentPolicy = v
			}
		case "adkim", "aspf":
			v := strings.ToLower(t.Value)
			if v != "r" && v != "s" {
				valueErr("want r (relaxed) or s (strict)")
				continue
			}
			if name == "adkim" {
				rec.ADKIM = v
			} else {
				rec.ASPF = v
			}
		case "psd":
			v := strings.ToLower(t.Value)
			if v != "y" && v != "n" && v != "u" {
				valueErr("want y, n or u")
				continue
			}
			rec.PSD = v
		case "t":
			v := strings.ToLower(t.Value)
			if v != "y" && v != "n" {
				valueErr("want y (test mode) or n")
				continue
			}
			rec.Testing = v == "y"
		case "fo":
			ok := true
			for _, o := range strings.Split(t.Value, ":") {
				switch strings.TrimSpace(o) {
				case "0", "1", "d", "s":
				default:
					ok = false
				}
			}
			if !ok {
				valueErr("want 0, 1, d, s or a colon-separated list of them")
				continue
			}
			rec.FO = t.Value
		case "rua", "ruf":
			uris := parseDMARCURIs(t.Value)
			for _, u := range uris {
				if u.Err != "" {
					valueErr("%s: %s", dnscheck.Clip(u.Raw), u.Err)
				}
			}
			if name == "rua" {
				rec.RUA = uris
			} else {
				rec.RUF = uris
			}
		case "pct", "rf", "ri":
			rec.Removed = append(rec.Removed, t)
			// Pre-RFC 9989 receivers still read them: check the RFC 7489 syntax.
			switch name {
			case "pct":
				if n, err := strconv.Atoi(t.Value); err != nil || n < 0 || n > 100 {
					valueErr("want an integer from 0 to 100 (RFC 7489 §6.3)")
				}
			case "ri":
				if n, err := strconv.ParseUint(t.Value, 10, 32); err != nil || n == 0 {
					valueErr("want a positive number of seconds (RFC 7489 §6.3)")
				}
			case "rf":
				for _, f := range strings.Split(t.Value, ":") {
					if strings.ToLower(strings.TrimSpace(f)) != "afrf" {
						valueErr("want afrf (RFC 7489 §6.3)")
						break
					}
				}
			}
		default:
			rec.Unknown = append(rec.Unknown, t)
		}
	}
	return rec, nil
}

// tlFirstPos is the offset of the first non-whitespace byte.
func tlFirstPos(s string) int {
	i := 0
	for i < len(s) && dnscheck.IsWSP(s[i]) {
		i++
	}
	return i
}

// parseDMARCURIs splits a rua/ruf value (RFC 9989 "Formal Definition":
// dmarc-uri *(*WSP "," *WSP dmarc-uri)); commas and "!" inside a URI must
// be percent-encoded, so a "!" starts the RFC 7489 size limit.
func parseDMARCURIs(v string) []URI {
	var out []URI
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		u := URI{Raw: raw}
		s := raw
		if i := strings.IndexByte(s, '!'); i >= 0 {
			u.Size = s[i+1:]
			s = s[:i]
			if !validDMARCSize(u.Size) {
				u.Err = fmt.Sprintf("size limit %q is not digits with an optional k, m, g or t", u.Size)
			}
		}
		if raw == "" {
			u.Err = "empty URI in the list"
			out = append(out, u)
			continue
		}
		pu, err := url.Parse(s)
		switch {
		case err != nil:
			u.Err = "not a URI: " + err.Error()
		case pu.Scheme == "":
			u.Err = "no scheme; report addresses are written mailto:user@domain"
		default:
			u.Scheme = strings.ToLower(pu.Scheme)
			if u.Scheme == "mailto" {
				addr := pu.Opaque
				if addr == "" {
					addr = pu.Path
				}
				if dec, err := url.PathUnescape(addr); err == nil {
					addr = dec
				}
				a, err := mail.ParseAddress(addr)
				if err != nil || !strings.Contains(a.Address, "@") {
					u.Err = fmt.Sprintf("%q is not an e-mail address", addr)
					break
				}
				u.Address = a.Address
				u.Domain = strings.ToLower(strings.TrimSuffix(a.Address[strings.LastIndexByte(a.Address, '@')+1:], "."))
			}
		}
		out = append(out, u)
	}
	return out
}

func validDMARCSize(s string) bool {
	if s == "" {
		return false
	}
	s = strings.TrimRight(strings.ToLower(s), "kmgt")
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !dnscheck.IsDigit(s[i]) {
			return false
		}
	}
	return true
}

// EffectivePolicy is the policy a receiver applies to the domain itself:
// p, or — when p is absent or invalid — p=none if rua holds a usable URI
// (RFC 9989 "DMARC Policy Discovery"), else "" (no DMARC processing).
func (r *Record) EffectivePolicy() string {
	if !r.PolicyBroken() {
		return r.Policy
	}
	if r.hasUsableRUA() {
		return None
	}
	return ""
}

// PolicyBroken reports a missing or invalid p=, or an invalid sp= or np=:
// RFC 9989 "DMARC Policy Discovery" then makes the record act as p=none
// (with a usable rua=) or not at all.
func (r *Record) PolicyBroken() bool {
	return r.Policy == "" || len(r.InvalidPolicy) > 0
}

// EffectiveSubdomainPolicy is sp, else p.
func (r *Record) EffectiveSubdomainPolicy() string {
	if r.PolicyBroken() {
		return r.EffectivePolicy()
	}
	if r.SubdomainPolicy != "" {
		return r.SubdomainPolicy
	}
	return r.EffectivePolicy()
}

// EffectiveNonexistentPolicy is np, else sp, else p (RFC 9989 "np").
func (r *Record) EffectiveNonexistentPolicy() string {
	if r.PolicyBroken() {
		return r.EffectivePolicy()
	}
	if r.NonexistentPolicy != "" {
		return r.NonexistentPolicy
	}
	return r.EffectiveSubdomainPolicy()
}

func (r *Record) hasUsableRUA() bool {
	for _, u := range r.RUA {
		if u.Err == "" && u.Scheme != "" {
			return true
		}
	}
	return false
}

// Tag returns the value of a tag and whether it is present.
func (r *Record) Tag(name string) (string, bool) {
	for _, t := range r.Tags {
		if strings.EqualFold(t.Name, name) {
			return t.Value, true
		}
	}
	return "", false
}

// isDMARCCandidate reports whether a TXT string starts like a DMARC record
// (v=DMARC1 as the first tag). RFC 9989 "DNS Tree Walk" step 2: others are discarded.
func isDMARCCandidate(txt string) bool {
	_, err := Parse(txt)
	return err == nil
}

// looksLikeDMARC catches near misses that receivers discard: "v=dmarc1",
// "v=DMARC2", a leading space before the tag list, "p=reject" alone.
func looksLikeDMARC(txt string) bool {
	l := strings.ToLower(txt)
	return strings.Contains(l, "dmarc") || strings.Contains(l, "p=reject") || strings.Contains(l, "p=quarantine") || strings.Contains(l, "p=none")
}
