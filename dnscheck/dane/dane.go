package dane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// TLSA usages, selectors and matching types (RFC 6698 §2.1, RFC 7218 names).
const (
	TLSAUsagePKIXTA = 0
	TLSAUsagePKIXEE = 1
	TLSAUsageDANETA = 2
	TLSAUsageDANEEE = 3

	TLSASelectorCert = 0
	TLSASelectorSPKI = 1

	TLSAMatchFull   = 0
	TLSAMatchSHA256 = 1
	TLSAMatchSHA512 = 2
)

// TLSARecord is one TLSA record, parsed, with its zone-file text.
type TLSARecord struct {
	Usage        uint8  `json:"usage"`
	Selector     uint8  `json:"selector"`
	MatchingType uint8  `json:"matching_type"`
	Data         string `json:"data"` // hex, lower case
	Raw          string `json:"raw"`
}

// Mnemonic is the RFC 7218 name: "DANE-EE SPKI SHA2-256".
func (t TLSARecord) Mnemonic() string {
	usage := [...]string{"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"}
	sel := [...]string{"Cert", "SPKI"}
	mt := [...]string{"Full", "SHA2-256", "SHA2-512"}
	name := func(names []string, v uint8) string {
		if int(v) < len(names) {
			return names[v]
		}
		return fmt.Sprintf("%d", v)
	}
	return name(usage[:], t.Usage) + " " + name(sel[:], t.Selector) + " " + name(mt[:], t.MatchingType)
}

// Problem says why senders cannot use the record for SMTP, or "" if they can.
func (t TLSARecord) Problem() string {
	switch {
	case t.Usage == TLSAUsagePKIXTA || t.Usage == TLSAUsagePKIXEE:
		return fmt.Sprintf("usage %d (%s) is unusable for SMTP; use 3 (DANE-EE) or 2 (DANE-TA) (RFC 7672 §3.1.3)", t.Usage, t.Mnemonic()[:7])
	case t.Usage > TLSAUsageDANEEE:
		return fmt.Sprintf("usage %d is not defined (RFC 6698 §2.1.1)", t.Usage)
	case t.Selector > TLSASelectorSPKI:
		return fmt.Sprintf("selector %d is not defined (RFC 6698 §2.1.2)", t.Selector)
	case t.MatchingType > TLSAMatchSHA512:
		return fmt.Sprintf("matching type %d is not defined (RFC 6698 §2.1.3)", t.MatchingType)
	}
	data, err := hex.DecodeString(t.Data)
	if err != nil || len(data) == 0 {
		return "the association data is not hexadecimal"
	}
	switch t.MatchingType {
	case TLSAMatchSHA256:
		if len(data) != sha256.Size {
			return fmt.Sprintf("SHA-256 data is %d octets, not 32", len(data))
		}
	case TLSAMatchSHA512:
		if len(data) != sha512.Size {
			return fmt.Sprintf("SHA-512 data is %d octets, not 64", len(data))
		}
	case TLSAMatchFull:
		if t.Selector == TLSASelectorCert {
			if _, err := x509.ParseCertificate(data); err != nil {
				return "the full certificate does not parse: " + err.Error()
			}
		} else if _, err := x509.ParsePKIXPublicKey(data); err != nil {
			return "the full SubjectPublicKeyInfo does not parse: " + err.Error()
		}
	}
	return ""
}

// Usable reports whether a sender can use the record for SMTP.
func (t TLSARecord) Usable() bool { return t.Problem() == "" }

// TLSAFromRR converts a miekg/dns TLSA record.
func TLSAFromRR(rr *dns.TLSA) TLSARecord {
	return TLSARecord{Usage: rr.Usage, Selector: rr.Selector, MatchingType: rr.MatchingType,
		Data: strings.ToLower(rr.Certificate), Raw: rr.String()}
}

// DANE statuses of a host.
const (
	StatusOK       = "ok"       // authenticated, at least one usable record
	StatusNone     = "none"     // no TLSA records (NXDOMAIN or NODATA)
	StatusInsecure = "insecure" // records, but the answer was not authenticated: senders ignore them
	StatusUnusable = "unusable" // authenticated, but no record usable for SMTP
	StatusUnknown  = "unknown"  // the lookup failed
)

// Host is the TLSA state of one MX host.
type Host struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// Base is the TLSA base domain when it is not Host: the secure CNAME
	// expansion of the MX host name (RFC 7672 §2.2.3).
	Base    string       `json:"base,omitempty"`
	Records []TLSARecord `json:"records,omitempty"`
	// Authenticated is the resolver's AD bit on the TLSA answer
	// (resolver-asserted, not validated by mxray).
	Authenticated bool   `json:"authenticated"`
	Status        string `json:"status"`
	// AddrAuthenticated is the AD bit of the host's address lookup, when the
	// caller knows it (RFC 7672 §2.2.2: DANE applies to hosts whose address
	// records are secure). nil when not known.
	AddrAuthenticated *bool `json:"addr_authenticated,omitempty"`

	Answer dnscheck.Answer `json:"-"`
}

// TLSAName is the owner name of a host's TLSA records: "_25._tcp.mx.example.com."
func TLSAName(host string, port int) string {
	return fmt.Sprintf("_%d._tcp.%s", port, dns.Fqdn(strings.ToLower(host)))
}

// LookupTLSA looks up the TLSA records of host:port. The TLSA base domain
// is the MX host name, except that when the name is an alias whose
// expansion is DNSSEC-secure, the fully expanded name is tried first and the
// original name only if the expanded one has no TLSA records (RFC 7672
// §2.2.3). The host's A lookup that tells about the alias is normally a
// cache hit: the mx part asked it already.
func LookupTLSA(ctx context.Context, r dnscheck.Resolver, host string, port int) Host {
	h := Host{Host: strings.TrimSuffix(strings.ToLower(host), "."), Port: port}
	h.Answer = r.Lookup(ctx, TLSAName(host, port), dns.TypeTLSA)
	if addr := r.Lookup(ctx, host, dns.TypeA); len(addr.CNAMEs) > 0 && addr.AD {
		target := strings.TrimSuffix(addr.CNAMEs[len(addr.CNAMEs)-1], ".")
		exp := r.Lookup(ctx, TLSAName(target, port), dns.TypeTLSA)
		if exp.Failed() || exp.Exists() {
			h.Answer, h.Base = exp, target
		}
	}
	h.Authenticated = h.Answer.AD
	for _, rr := range h.Answer.Records {
		if t, ok := rr.(*dns.TLSA); ok {
			h.Records = append(h.Records, TLSAFromRR(t))
		}
	}
	switch {
	case h.Answer.Failed():
		h.Status = StatusUnknown
	case len(h.Records) == 0:
		h.Status = StatusNone
	case !h.Authenticated:
		h.Status = StatusInsecure
	default:
		h.Status = StatusUnusable
		for _, t := range h.Records {
			if t.Usable() {
				h.Status = StatusOK
				break
			}
		}
	}
	return h
}

// Result is the value of the "dane" check part
// (env.Await(ctx, "dane") returns *dane.Result).
type Result struct {
	Hosts []Host `json:"hosts"`
}

// TLSAFor returns the TLSA state of an MX host (case and trailing dot ignored).
func (d *Result) TLSAFor(host string) (Host, bool) {
	if d == nil {
		return Host{}, false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, h := range d.Hosts {
		if h.Host == host {
			return h, true
		}
	}
	return Host{}, false
}

// Lookup looks up the TLSA records of every host on port 25, concurrently.
func Lookup(ctx context.Context, r dnscheck.Resolver, hosts []string) *Result {
	d := &Result{Hosts: make([]Host, len(hosts))}
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Hosts[i] = LookupTLSA(ctx, r, h, 25)
		}()
	}
	wg.Wait()
	return d
}

// MatchTLSA checks a presented chain (leaf first) against the records per
// RFC 6698 §2.1 and RFC 7671: DANE-EE(3) matches the leaf, DANE-TA(2) any
// certificate of the chain (RFC 7671 §5.2.2: the trust anchor may be the
// leaf's issuer or higher, and must be in the chain the server sends,
// RFC 7672 §3.1.2). For DANE-EE the name and validity of the certificate
// do not matter (RFC 7672 §3.1.1); for DANE-TA the caller must still verify
// the chain up to the matched anchor and the name (RFC 7672 §3.2). PKIX
// usages 0 and 1 are unusable for SMTP (RFC 7672 §3.1.3) and never match.
// It returns the first matching record or nil, and the reasons the others
// did not match.
func MatchTLSA(recs []TLSARecord, chain []*x509.Certificate) (*TLSARecord, []string) {
	var reasons []string
	if len(chain) == 0 {
		return nil, []string{"the server presented no certificate"}
	}
	for i := range recs {
		t := recs[i]
		if p := t.Problem(); p != "" {
			reasons = append(reasons, t.Raw+": "+p)
			continue
		}
		want, _ := hex.DecodeString(t.Data)
		var candidates []*x509.Certificate
		what := "the leaf certificate"
		if t.Usage == TLSAUsageDANEEE {
			candidates = chain[:1]
		} else {
			candidates = chain
			what = fmt.Sprintf("any of the %d certificates of the chain", len(chain))
		}
		matched := false
		for _, c := range candidates {
			if bytes.Equal(tlsaAssociation(c, t.Selector, t.MatchingType), want) {
				matched = true
				break
			}
		}
		if matched {
			return &recs[i], reasons
		}
		reasons = append(reasons, fmt.Sprintf("%s: does not match %s (leaf %s)", t.Raw, what,
			hex.EncodeToString(tlsaAssociation(chain[0], t.Selector, t.MatchingType))))
	}
	if len(recs) == 0 {
		reasons = append(reasons, "no TLSA records")
	}
	return nil, reasons
}

// tlsaAssociation computes the association data of a certificate for a
// selector and matching type (RFC 6698 §2.1.2, §2.1.3).
func tlsaAssociation(c *x509.Certificate, selector, matching uint8) []byte {
	var in []byte
	switch selector {
	case TLSASelectorCert:
		in = c.Raw
	case TLSASelectorSPKI:
		in = c.RawSubjectPublicKeyInfo
	default:
		return nil
	}
	switch matching {
	case TLSAMatchFull:
		return in
	case TLSAMatchSHA256:
		s := sha256.Sum256(in)
		return s[:]
	case TLSAMatchSHA512:
		s := sha512.Sum512(in)
		return s[:]
	}
	return nil
}

// TLSARecordFor is the "3 1 1" record a host should publish for a
// certificate (DANE-EE, SPKI, SHA-256: survives renewals that keep the key).
func TLSARecordFor(host string, port int, c *x509.Certificate) string {
	return fmt.Sprintf("%s IN TLSA 3 1 1 %s", TLSAName(host, port), hex.EncodeToString(tlsaAssociation(c, TLSASelectorSPKI, TLSAMatchSHA256)))
}

const (
	refDANE     = "RFC 7672 §2.2"
	refDANEUse  = "RFC 7672 §3.1.3"
	refTLSA     = "RFC 6698 §2.1"
	daneHowHash = "openssl x509 -in cert.pem -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256"
)

// Findings judges the TLSA records of every host.
func (d *Result) Findings() []report.Finding {
	var fs []report.Finding
	with, without := 0, []string{}
	for _, h := range d.Hosts {
		fs = append(fs, h.findings()...)
		switch h.Status {
		case StatusOK, StatusUnusable, StatusInsecure:
			with++
		case StatusNone:
			without = append(without, h.Host)
		}
	}
	switch {
	case len(d.Hosts) > 0 && with == 0 && len(without) == len(d.Hosts):
		pub := make([]string, 0, len(d.Hosts))
		for _, h := range d.Hosts {
			pub = append(pub, TLSAName(h.Host, 25)+" IN TLSA 3 1 1 <SHA-256 of the server's public key>")
		}
		fs = append(fs, report.Finding{ID: "dane.none", Severity: report.Info,
			Summary:  "no MX host publishes TLSA records: DANE does not protect mail to this domain",
			Evidence: daneEvidence(d.Hosts),
			Cause:    "senders that use DANE (Postfix, Exim, many providers) fall back to opportunistic TLS without authentication",
			Fix: "sign the zones of the MX hosts with DNSSEC, then publish a DANE-EE record per host (hash with: " + daneHowHash +
				"); publish the next key's record before each key rollover",
			Publish:    pub,
			References: []string{refDANE, "RFC 7671 §8.1"}})
	case with > 0 && len(without) > 0:
		fs = append(fs, report.Finding{ID: "dane.partial", Severity: report.Info,
			Summary: "only some MX hosts publish TLSA records; none for " + strings.Join(without, ", "),
			Cause:   "DANE protects delivery only to the hosts with TLSA records",
			Fix:     "publish TLSA records for every MX host", References: []string{refDANE}})
	}
	return fs
}

func daneEvidence(hs []Host) []string {
	var ev []string
	for _, h := range hs {
		ev = append(ev, h.Answer.Describe())
	}
	return ev
}

func (h Host) findings() []report.Finding {
	name := strings.TrimSuffix(TLSAName(h.Host, h.Port), ".")
	ev := append([]string{h.Answer.Describe() + adNote(h.Answer.AD)}, h.Answer.Strings()...)
	switch h.Status {
	case StatusUnknown:
		return []report.Finding{{ID: "dane.lookup-failed", Severity: report.Unknown, Subject: h.Host,
			Summary:  "could not look up the TLSA records " + name + ": " + h.Answer.Status.String(),
			Evidence: ev,
			Cause:    "the resolver gave no definite answer; if the zone is signed, DANE senders also fail this lookup and defer mail to this host (RFC 7672 §2.2)",
			Fix:      "retry; if it persists, check the nameservers and the DNSSEC signatures of " + h.Host, References: []string{refDANE}}}
	case StatusNone:
		return nil
	}
	var fs []report.Finding
	for _, t := range h.Records {
		if p := t.Problem(); p != "" {
			sev := report.Failure
			id := "dane.record-malformed"
			if t.Usage <= TLSAUsagePKIXEE {
				sev, id = report.Warning, "dane.record-unusable"
			}
			fs = append(fs, report.Finding{ID: id, Severity: sev, Subject: h.Host,
				Summary: "TLSA record " + t.Mnemonic() + " cannot be used: " + p, Evidence: []string{t.Raw},
				Cause:      "senders skip unusable TLSA records; if none is usable, DANE authentication does not apply to this host",
				Fix:        "replace it with a DANE-EE record of the server's current key (" + daneHowHash + ")",
				Publish:    []string{TLSAName(h.Host, h.Port) + " IN TLSA 3 1 1 <SHA-256 of the server's public key>"},
				References: []string{refDANEUse, refTLSA}})
		}
	}
	switch h.Status {
	case StatusInsecure:
		fs = append(fs, report.Finding{ID: "dane.insecure", Severity: report.Warning, Subject: h.Host,
			Summary:    fmt.Sprintf("%d TLSA record(s) at %s, but the answer is not DNSSEC-authenticated (resolver AD bit clear)", len(h.Records), name),
			Evidence:   ev,
			Cause:      "senders use TLSA records only from a DNSSEC-validated answer (RFC 7672 §2.2); unsigned records are ignored. Either the zone of " + h.Host + " is not signed, or the resolver mxray asked does not validate",
			Fix:        "sign the zone of " + h.Host + " with DNSSEC and publish the DS record at the parent; check with a validating resolver (--resolver)",
			References: []string{refDANE, "RFC 4033"}})
	case StatusUnusable:
		fs = append(fs, report.Finding{ID: "dane.no-usable-record", Severity: report.Failure, Subject: h.Host,
			Summary:    "TLSA records are published and authenticated, but none is usable for SMTP",
			Evidence:   ev,
			Cause:      "DANE senders find the host DANE-enabled but can authenticate it with no record",
			Fix:        "publish a DANE-EE (3 1 1) record of the server's current key (" + daneHowHash + ")",
			Publish:    []string{TLSAName(h.Host, h.Port) + " IN TLSA 3 1 1 <SHA-256 of the server's public key>"},
			References: []string{refDANEUse}})
	case StatusOK:
		fs = append(fs, report.Finding{ID: "dane.ok", Severity: report.OK, Subject: h.Host,
			Summary:  fmt.Sprintf("%d TLSA record(s) at %s, authenticated (resolver-asserted AD bit)", len(h.Records), name),
			Evidence: ev, References: []string{refDANE}})
		if h.AddrAuthenticated != nil && !*h.AddrAuthenticated {
			fs = append(fs, report.Finding{ID: "dane.address-insecure", Severity: report.Warning, Subject: h.Host,
				Summary:    "the TLSA records are authenticated, but the address records of " + h.Host + " are not",
				Cause:      "senders apply DANE only to hosts whose address lookup is DNSSEC-secure (RFC 7672 §2.2.2)",
				Fix:        "serve the A/AAAA records of " + h.Host + " from a signed zone (no unsigned CNAME in between)",
				References: []string{"RFC 7672 §2.2.2"}})
		}
	}
	return fs
}

func adNote(ad bool) string {
	if ad {
		return " [AD: authenticated, resolver-asserted]"
	}
	return " [AD clear: not authenticated]"
}

// DetailLines lists every host's TLSA state and records in the text report.
func (d *Result) DetailLines() []string {
	var out []string
	for _, h := range d.Hosts {
		auth := "not authenticated"
		if h.Authenticated {
			auth = "authenticated (resolver AD bit)"
		}
		if h.Status == StatusNone || h.Status == StatusUnknown {
			auth = ""
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s: %s %s", strings.TrimSuffix(TLSAName(h.Host, h.Port), "."), h.Status, auth)))
		for _, t := range h.Records {
			out = append(out, fmt.Sprintf("  %d %d %d %s  (%s)", t.Usage, t.Selector, t.MatchingType, dnscheck.Truncate(t.Data, 64), t.Mnemonic()))
		}
	}
	return out
}
