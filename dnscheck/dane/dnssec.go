package dane

// DNSSEC status of a mail domain and of its MX hosts' zones (RFC 4033-4035).
//
// mxray does not validate signatures itself. It asks its resolver with the
// AD bit set (RFC 6840 §5.7) and reports the AD bit of the answer: the
// resolver asserts that it validated the answer. That assertion is only as
// good as the resolver and the path to it, so every finding says
// "resolver-asserted".
//
// An answer without AD has two explanations: the zone is not signed, or the
// resolver does not validate. To tell them apart mxray looks for a DS record
// (RFC 4034 §5) at the name and at each ancestor below the top-level
// domain: DS records are ordinary data that every resolver returns. A DS at
// the delegation with no AD means the resolver does not validate (or the
// chain above is broken): unknown. No DS anywhere means the zone is not
// signed: an observation, reported as such.

import (
	"context"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// DNSSEC statuses.
const (
	DNSSECSecure   = "secure"   // AD set on the answer (resolver-asserted)
	DNSSECUnsigned = "unsigned" // no AD, and no DS at the name or any ancestor below the TLD
	DNSSECNoAD     = "no-ad"    // a DS exists but the answer had no AD: the resolver does not validate
	DNSSECUnknown  = "unknown"  // a lookup failed
)

// DNSSECName is the DNSSEC state of one name.
type DNSSECName struct {
	Name   string `json:"name"`
	Role   string `json:"role"` // "domain" or "mx host"
	Status string `json:"status"`
	// DSAt is the name where a DS record was found ("" when none).
	DSAt     string   `json:"ds_at,omitempty"`
	Evidence []string `json:"evidence,omitempty"`

	Answer dnscheck.Answer `json:"-"`
}

// DNSSECResult is the DNSSEC state of the domain and its MX hosts.
type DNSSECResult struct {
	Names []DNSSECName `json:"names"`
}

// CheckDNSSEC looks up the domain's SOA and each MX host's A record with
// the AD bit requested (answers the MX check already made come from the
// resolver's cache), then, for names without AD, searches for DS records.
func CheckDNSSEC(ctx context.Context, r dnscheck.Resolver, domain string, hosts []string) *DNSSECResult {
	res := &DNSSECResult{Names: make([]DNSSECName, 0, 1+len(hosts))}
	res.Names = append(res.Names, DNSSECName{Name: dnssecNorm(domain), Role: "domain"})
	seen := map[string]bool{dnssecNorm(domain): true}
	for _, h := range hosts {
		if n := dnssecNorm(h); !seen[n] {
			seen[n] = true
			res.Names = append(res.Names, DNSSECName{Name: n, Role: "mx host"})
		}
	}
	var wg sync.WaitGroup
	for i := range res.Names {
		wg.Add(1)
		go func(n *DNSSECName) {
			defer wg.Done()
			qtype := dns.TypeSOA
			if n.Role != "domain" {
				qtype = dns.TypeA
			}
			checkDNSSECName(ctx, r, n, qtype)
		}(&res.Names[i])
	}
	wg.Wait()
	return res
}

func dnssecNorm(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

func checkDNSSECName(ctx context.Context, r dnscheck.Resolver, n *DNSSECName, qtype uint16) {
	n.Answer = r.Lookup(ctx, n.Name, qtype)
	n.Evidence = append(n.Evidence, n.Answer.Describe()+adNote(n.Answer.AD))
	switch {
	case n.Answer.Failed():
		n.Status = DNSSECUnknown
		return
	case n.Answer.AD:
		n.Status = DNSSECSecure
		return
	}
	// Walk up from the name to the label below the TLD looking for a DS.
	labels := dns.SplitDomainName(n.Name)
	for i := 0; i+1 < len(labels); i++ {
		name := strings.Join(labels[i:], ".")
		ds := r.Lookup(ctx, name, dns.TypeDS)
		n.Evidence = append(n.Evidence, ds.Describe())
		switch {
		case ds.Failed():
			n.Status = DNSSECUnknown
			return
		case ds.Exists():
			n.DSAt = name
			n.Status = DNSSECNoAD
			return
		}
	}
	n.Status = DNSSECUnsigned
}

// Findings judges each name.
func (d *DNSSECResult) Findings() []report.Finding {
	var fs []report.Finding
	refs := []string{"RFC 4033 §3", "RFC 6840 §5.8"}
	for _, n := range d.Names {
		what := "the domain " + n.Name
		if n.Role != "domain" {
			what = "the MX host " + n.Name
		}
		switch n.Status {
		case DNSSECSecure:
			fs = append(fs, report.Finding{ID: "dnssec.secure", Severity: report.OK, Subject: n.Name,
				Summary:  what + " answers DNSSEC-authenticated (resolver-asserted AD bit)",
				Evidence: n.Evidence, References: refs})
		case DNSSECUnknown:
			fs = append(fs, report.Finding{ID: "dnssec.lookup-failed", Severity: report.Unknown, Subject: n.Name,
				Summary:    "could not determine whether " + what + " is DNSSEC-signed: a lookup failed",
				Evidence:   n.Evidence,
				Cause:      "SERVFAIL from a validating resolver can also mean the signatures are bogus (expired, wrong DS)",
				Fix:        "retry; check the zone with a DNSSEC debugger (e.g. dig +dnssec " + n.Name + " SOA; delv " + n.Name + ")",
				References: refs})
		case DNSSECNoAD:
			fs = append(fs, report.Finding{ID: "dnssec.not-validated", Severity: report.Unknown, Subject: n.Name,
				Summary:    "a DS record exists at " + n.DSAt + ", but the answer for " + n.Name + " was not authenticated",
				Evidence:   n.Evidence,
				Cause:      "the resolver mxray asked does not validate DNSSEC (or strips the AD bit), so the zone's status cannot be observed from here",
				Fix:        "run mxray with a validating resolver (--resolver), e.g. a local unbound",
				References: refs})
		case DNSSECUnsigned:
			sev := report.Info
			cause := "without DNSSEC the records of the domain (MX, SPF, MTA-STS TXT) can be forged by a network attacker; DANE cannot be used"
			if n.Role != "domain" {
				cause = "DANE for this MX host needs its zone to be signed (RFC 7672 §2.2); without it senders cannot authenticate the host's TLSA records"
			}
			fs = append(fs, report.Finding{ID: "dnssec.unsigned", Severity: sev, Subject: n.Name,
				Summary:    what + " is not DNSSEC-signed (no DS record at the delegation)",
				Evidence:   n.Evidence,
				Cause:      cause,
				Fix:        "sign the zone at your DNS provider and publish the DS record at the registrar",
				Publish:    []string{dnssecZoneGuess(n.Name) + ". IN DS <key tag> <algorithm 13> 2 <SHA-256 digest of the KSK, from your DNS provider>"},
				References: append(refs, "RFC 4034 §5")})
		}
	}
	return fs
}

// zoneGuess is the registrable-looking zone of a name (its last two labels)
// for the DS placeholder; the DNS provider gives the exact owner.
func dnssecZoneGuess(name string) string {
	labels := dns.SplitDomainName(name)
	if len(labels) <= 2 {
		return name
	}
	return strings.Join(labels[len(labels)-2:], ".")
}
