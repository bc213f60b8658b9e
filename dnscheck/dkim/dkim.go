package dkim

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"
)

// CommonSelectors are selectors used by widespread mail platforms and
// software defaults, tried when no selector is given.
var CommonSelectors = []string{
	"default", "dkim", "mail", "email", "selector", "selector1", "selector2", // Microsoft 365: selector1/2
	"google", "k1", "k2", "k3", // Google Workspace; Mailchimp/Mandrill k1-k3
	"s1", "s2", "sm", "smtp", "mx", "key1", "key2", "dkim1", "dkim2", "sig1", // SendGrid s1/s2; iCloud sig1
	"fm1", "fm2", "fm3", "protonmail", "protonmail2", "protonmail3", "zoho", "zmail", // Fastmail, Proton, Zoho
	"mandrill", "mailjet", "everlytickey1", "everlytickey2", "cm", "pm", "mxvault", "turbo-smtp", "hs1", "hs2", // HubSpot hs1/hs2
	"20230601", "20221208", "20210112", "20161025", // Gmail's dated selectors
}

// Key is one parsed key record, with the raw text beside it.
type Key struct {
	Raw      string             `json:"raw"`
	Tags     []dnscheck.TagSpec `json:"tags"`
	Version  string             `json:"v,omitempty"`
	KeyType  string             `json:"k"` // rsa when absent
	Hashes   []string           `json:"h,omitempty"`
	Services []string           `json:"s,omitempty"`
	Flags    []string           `json:"t,omitempty"`
	Notes    string             `json:"n,omitempty"`
	// PublicKey is the base64 p= value with whitespace removed.
	PublicKey string `json:"p"`
	Revoked   bool   `json:"revoked"`
	Bits      int    `json:"bits,omitempty"` // RSA modulus size, or 256 for ed25519
	// KeyErr says why p= could not be decoded as a key of type k.
	KeyErr  string                    `json:"key_error,omitempty"`
	Unknown []dnscheck.TagSpec        `json:"unknown,omitempty"`
	Errors  []dnscheck.TagSyntaxError `json:"errors,omitempty"`
	// PKCS1 is true when an RSA key is a bare RSAPublicKey rather than the
	// SubjectPublicKeyInfo RFC 6376 §3.6.1 asks for.
	PKCS1 bool `json:"pkcs1,omitempty"`
}

// Testing reports t=y.
func (k *Key) Testing() bool { return hasFold(k.Flags, "y") }

// StrictDomain reports t=s.
func (k *Key) StrictDomain() bool { return hasFold(k.Flags, "s") }

// ForEmail reports whether s= allows e-mail (absent, "*" or "email").
func (k *Key) ForEmail() bool {
	return len(k.Services) == 0 || hasFold(k.Services, "*") || hasFold(k.Services, "email")
}

func hasFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// ErrNotDKIM is returned for a record starting with a v= other than DKIM1.
var ErrNotDKIM = fmt.Errorf("not a DKIM key record: v= is not DKIM1")

// ParseKey parses a key record (TXT strings already joined). Problems are
// listed in Errors and KeyErr; the error return is only for a record that
// verifiers discard outright (v= other than DKIM1, or no p= tag).
func ParseKey(txt string) (*Key, error) {
	tags, errs := dnscheck.ParseTagList(txt)
	k := &Key{Raw: txt, Tags: tags, Errors: errs, KeyType: "rsa"}
	hasP := false
	for i, t := range tags {
		switch t.Name { // tag names are case-sensitive in DKIM (RFC 6376 §3.2)
		case "v":
			k.Version = t.Value
			if t.Value != "DKIM1" {
				return k, fmt.Errorf("%w (v=%s)", ErrNotDKIM, dnscheck.Clip(t.Value))
			}
			if i != 0 {
				k.Errors = append(k.Errors, dnscheck.TagSyntaxError{Pos: t.Pos, Msg: "v=DKIM1 must be the first tag (RFC 6376 §3.6.1)"})
			}
		case "k":
			k.KeyType = strings.ToLower(t.Value)
		case "h":
			k.Hashes = splitColon(t.Value)
		case "s":
			k.Services = splitColon(t.Value)
		case "t":
			k.Flags = splitColon(t.Value)
		case "n":
			k.Notes = t.Value
		case "p":
			hasP = true
			k.PublicKey = dnscheck.RemoveWSP(t.Value)
		case "g": // RFC 4871 granularity, removed by RFC 6376; harmless
			k.Unknown = append(k.Unknown, t)
		default:
			k.Unknown = append(k.Unknown, t)
		}
	}
	if !hasP {
		return k, fmt.Errorf("no p= tag: a key record must have one (RFC 6376 §3.6.1)")
	}
	if k.PublicKey == "" {
		k.Revoked = true // RFC 6376 §3.6.1: "An empty value means that this public key has been revoked."
		return k, nil
	}
	der, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		k.KeyErr = "p= is not valid base64: " + err.Error()
		return k, nil
	}
	switch k.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			// Bare PKCS#1 RSAPublicKey: outside the RFC, accepted by most verifiers.
			if rk, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
				k.PKCS1 = true
				k.Bits = rk.N.BitLen()
				return k, nil
			}
			k.KeyErr = "p= is not a DER-encoded RSA public key: " + err.Error()
			return k, nil
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			k.KeyErr = fmt.Sprintf("k=rsa but p= holds a %T key", pub)
			return k, nil
		}
		k.Bits = rk.N.BitLen()
	case "ed25519":
		// RFC 8463 §4.2: the raw 32-octet public key, not wrapped in SPKI.
		if len(der) != ed25519.PublicKeySize {
			if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
				if _, ok := pub.(ed25519.PublicKey); ok {
					k.KeyErr = "p= is an ed25519 key wrapped in SubjectPublicKeyInfo; RFC 8463 §4.2 wants the bare 32-octet key, and verifiers fail on the wrapped form"
					return k, nil
				}
			}
			k.KeyErr = fmt.Sprintf("an ed25519 key is 32 octets; p= decodes to %d", len(der))
			return k, nil
		}
		k.Bits = 256
	default:
		k.KeyErr = fmt.Sprintf("unknown key type k=%s; verifiers know rsa and ed25519", k.KeyType)
	}
	return k, nil
}

func splitColon(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Selector is the lookup of one selector.
type Selector struct {
	Selector string   `json:"selector"`
	Name     string   `json:"name"`  // <selector>._domainkey.<domain>.
	Given    bool     `json:"given"` // named by the user, not guessed
	Status   string   `json:"status"`
	CNAMEs   []string `json:"cnames,omitempty"`
	// Strings holds the character-strings of each TXT record as received,
	// Records the joined records.
	Strings [][]string      `json:"strings,omitempty"`
	Records []string        `json:"records,omitempty"`
	Key     *Key            `json:"key,omitempty"`
	KeyErr  string          `json:"error,omitempty"` // ParseKey's error
	Answer  dnscheck.Answer `json:"-"`
}

// Found reports whether a TXT record exists at the selector's name.
func (s Selector) Found() bool { return len(s.Records) > 0 }

// Result is the DKIM key lookup of a domain.
type Result struct {
	Domain    string     `json:"domain"`
	Guessed   bool       `json:"guessed"` // no selector given: the common list was tried
	Selectors []Selector `json:"selectors"`
}

// LookupSelector looks up and parses one selector's key.
func LookupSelector(ctx context.Context, r dnscheck.Resolver, domain, selector string) Selector {
	domain = strings.Trim(strings.ToLower(domain), ".")
	s := Selector{Selector: selector, Name: selector + "._domainkey." + domain + "."}
	s.Answer = r.Lookup(ctx, s.Name, dns.TypeTXT)
	s.Status = s.Answer.Status.String()
	s.CNAMEs = s.Answer.CNAMEs
	// TXTParts unescapes miekg/dns's presentation form, so the parser sees
	// the octets that were published.
	for _, parts := range dnscheck.TXTParts(s.Answer) {
		s.Strings = append(s.Strings, parts)
		s.Records = append(s.Records, strings.Join(parts, ""))
	}
	if len(s.Records) > 0 {
		k, err := ParseKey(s.Records[0])
		s.Key = k
		if err != nil {
			s.KeyErr = err.Error()
		}
	}
	return s
}

// Lookup looks up the given selectors, or — when none is given — every
// selector of CommonSelectors, concurrently.
func Lookup(ctx context.Context, r dnscheck.Resolver, domain string, selectors []string) *Result {
	domain = strings.Trim(strings.ToLower(domain), ".")
	res := &Result{Domain: domain}
	given := true
	if len(selectors) == 0 {
		selectors, given, res.Guessed = CommonSelectors, false, true
	}
	seen := map[string]bool{}
	var list []string
	for _, s := range selectors {
		s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".")
		if s != "" && !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	res.Selectors = make([]Selector, len(list))
	var wg sync.WaitGroup
	for i, sel := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Selectors[i] = LookupSelector(ctx, r, domain, sel)
			res.Selectors[i].Given = given
		}()
	}
	wg.Wait()
	return res
}

// ValidSelector checks a selector given on the command line: one or more
// dot-separated labels of letters, digits, hyphens, underscores (RFC 6376 §3.1).
func ValidSelector(s string) error {
	s = strings.Trim(s, ".")
	if s == "" {
		return fmt.Errorf("empty DKIM selector")
	}
	if len(s) > 200 {
		return fmt.Errorf("DKIM selector %q is too long", dnscheck.Clip(s))
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("DKIM selector %q has an empty or over-long label", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(dnscheck.IsAlpha(c) || dnscheck.IsDigit(c) || c == '-' || c == '_') {
				return fmt.Errorf("DKIM selector %q contains %q", s, c)
			}
		}
	}
	return nil
}
