package dnscheck

// DKIM public key records (RFC 6376 §3.6): a TXT record at
// <selector>._domainkey.<domain> in the tag=value syntax of RFC 6376 §3.2.
//
//   - v=DKIM1, if present, must be the first tag; a record starting with
//     another v= is discarded (§3.6.1),
//   - k is the key type: rsa (default) or ed25519 (RFC 8463),
//   - p is the base64 public key; an empty p= means the key was revoked,
//     for RSA a DER SubjectPublicKeyInfo (in practice some publishers put a
//     bare PKCS#1 RSAPublicKey, which most verifiers accept), for ed25519 the
//     raw 32-octet key (RFC 8463 §4.2),
//   - h lists acceptable hash algorithms (sha1 is forbidden by RFC 8301 §3.1),
//   - s lists service types (* or email), t flags: y (testing: verifiers
//     must not treat a failure differently from no signature) and s (the i=
//     domain must equal d=, no subdomains),
//   - RSA keys under 1024 bits must not be used (RFC 8301 §3.2); 1024 is
//     the floor, 2048 the current recommendation.
//
// A TXT record longer than 255 octets is split into several strings, which
// are joined without separator (RFC 6376 §3.6.2.2). Keys are often
// delegated to an email provider with a CNAME; the resolver follows it and
// the chain is kept as evidence.
//
// Selectors are arbitrary names. Without --selector, mxray tries a list of
// common ones concurrently; finding none proves nothing.

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// CommonDKIMSelectors are selectors used by widespread mail platforms and
// software defaults, tried when no selector is given.
var CommonDKIMSelectors = []string{
	"default", "dkim", "mail", "email", "selector", "selector1", "selector2", // Microsoft 365: selector1/2
	"google", "k1", "k2", "k3", // Google Workspace; Mailchimp/Mandrill k1-k3
	"s1", "s2", "sm", "smtp", "mx", "key1", "key2", "dkim1", "dkim2", "sig1", // SendGrid s1/s2; iCloud sig1
	"fm1", "fm2", "fm3", "protonmail", "protonmail2", "protonmail3", "zoho", "zmail", // Fastmail, Proton, Zoho
	"mandrill", "mailjet", "everlytickey1", "everlytickey2", "cm", "pm", "mxvault", "turbo-smtp", "hs1", "hs2", // HubSpot hs1/hs2
	"20230601", "20221208", "20210112", "20161025", // Gmail's dated selectors
}

// DKIMKey is one parsed key record, with the raw text beside it.
type DKIMKey struct {
	Raw      string    `json:"raw"`
	Tags     []TagSpec `json:"tags"`
	Version  string    `json:"v,omitempty"`
	KeyType  string    `json:"k"` // rsa when absent
	Hashes   []string  `json:"h,omitempty"`
	Services []string  `json:"s,omitempty"`
	Flags    []string  `json:"t,omitempty"`
	Notes    string    `json:"n,omitempty"`
	// PublicKey is the base64 p= value with whitespace removed.
	PublicKey string `json:"p"`
	Revoked   bool   `json:"revoked"`
	Bits      int    `json:"bits,omitempty"` // RSA modulus size, or 256 for ed25519
	// KeyErr says why p= could not be decoded as a key of type k.
	KeyErr  string           `json:"key_error,omitempty"`
	Unknown []TagSpec        `json:"unknown,omitempty"`
	Errors  []TagSyntaxError `json:"errors,omitempty"`
	// PKCS1 is true when an RSA key is a bare RSAPublicKey rather than the
	// SubjectPublicKeyInfo RFC 6376 §3.6.1 asks for.
	PKCS1 bool `json:"pkcs1,omitempty"`
}

// Testing reports t=y.
func (k *DKIMKey) Testing() bool { return hasFold(k.Flags, "y") }

// StrictDomain reports t=s.
func (k *DKIMKey) StrictDomain() bool { return hasFold(k.Flags, "s") }

// ForEmail reports whether s= allows e-mail (absent, "*" or "email").
func (k *DKIMKey) ForEmail() bool {
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

// ParseDKIMKey parses a key record (TXT strings already joined). Problems are
// listed in Errors and KeyErr; the error return is only for a record that
// verifiers discard outright (v= other than DKIM1, or no p= tag).
func ParseDKIMKey(txt string) (*DKIMKey, error) {
	tags, errs := parseTagList(txt)
	k := &DKIMKey{Raw: txt, Tags: tags, Errors: errs, KeyType: "rsa"}
	hasP := false
	for i, t := range tags {
		switch t.Name { // tag names are case-sensitive in DKIM (RFC 6376 §3.2)
		case "v":
			k.Version = t.Value
			if t.Value != "DKIM1" {
				return k, fmt.Errorf("%w (v=%s)", ErrNotDKIM, tlClip(t.Value))
			}
			if i != 0 {
				k.Errors = append(k.Errors, TagSyntaxError{t.Pos, "v=DKIM1 must be the first tag (RFC 6376 §3.6.1)"})
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
			k.PublicKey = tlRemoveWSP(t.Value)
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

// DKIMSelector is the lookup of one selector.
type DKIMSelector struct {
	Selector string   `json:"selector"`
	Name     string   `json:"name"`  // <selector>._domainkey.<domain>.
	Given    bool     `json:"given"` // named by the user, not guessed
	Status   string   `json:"status"`
	CNAMEs   []string `json:"cnames,omitempty"`
	// Strings holds the character-strings of each TXT record as received,
	// Records the joined records.
	Strings [][]string `json:"strings,omitempty"`
	Records []string   `json:"records,omitempty"`
	Key     *DKIMKey   `json:"key,omitempty"`
	KeyErr  string     `json:"error,omitempty"` // ParseDKIMKey's error
	Answer  Answer     `json:"-"`
}

// Found reports whether a TXT record exists at the selector's name.
func (s DKIMSelector) Found() bool { return len(s.Records) > 0 }

// DKIMResult is the DKIM key lookup of a domain.
type DKIMResult struct {
	Domain    string         `json:"domain"`
	Guessed   bool           `json:"guessed"` // no selector given: the common list was tried
	Selectors []DKIMSelector `json:"selectors"`
}

// LookupDKIMSelector looks up and parses one selector's key.
func LookupDKIMSelector(ctx context.Context, r Resolver, domain, selector string) DKIMSelector {
	domain = strings.Trim(strings.ToLower(domain), ".")
	s := DKIMSelector{Selector: selector, Name: selector + "._domainkey." + domain + "."}
	s.Answer = r.Lookup(ctx, s.Name, dns.TypeTXT)
	s.Status = s.Answer.Status.String()
	s.CNAMEs = s.Answer.CNAMEs
	// TXTParts unescapes miekg/dns's presentation form, so the parser sees
	// the octets that were published.
	for _, parts := range TXTParts(s.Answer) {
		s.Strings = append(s.Strings, parts)
		s.Records = append(s.Records, strings.Join(parts, ""))
	}
	if len(s.Records) > 0 {
		k, err := ParseDKIMKey(s.Records[0])
		s.Key = k
		if err != nil {
			s.KeyErr = err.Error()
		}
	}
	return s
}

// LookupDKIM looks up the given selectors, or — when none is given — every
// selector of CommonDKIMSelectors, concurrently.
func LookupDKIM(ctx context.Context, r Resolver, domain string, selectors []string) *DKIMResult {
	domain = strings.Trim(strings.ToLower(domain), ".")
	res := &DKIMResult{Domain: domain}
	given := true
	if len(selectors) == 0 {
		selectors, given, res.Guessed = CommonDKIMSelectors, false, true
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
	res.Selectors = make([]DKIMSelector, len(list))
	var wg sync.WaitGroup
	for i, sel := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Selectors[i] = LookupDKIMSelector(ctx, r, domain, sel)
			res.Selectors[i].Given = given
		}()
	}
	wg.Wait()
	return res
}

// ValidDKIMSelector checks a selector given on the command line: one or more
// dot-separated labels of letters, digits, hyphens, underscores (RFC 6376 §3.1).
func ValidDKIMSelector(s string) error {
	s = strings.Trim(s, ".")
	if s == "" {
		return fmt.Errorf("empty DKIM selector")
	}
	if len(s) > 200 {
		return fmt.Errorf("DKIM selector %q is too long", tlClip(s))
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("DKIM selector %q has an empty or over-long label", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(tlIsAlpha(c) || tlIsDigit(c) || c == '-' || c == '_') {
				return fmt.Errorf("DKIM selector %q contains %q", s, c)
			}
		}
	}
	return nil
}
