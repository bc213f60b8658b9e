package dnscheck

// MX: where mail for a domain goes (RFC 5321 §5.1).
//
//   - The MX records are sorted by preference; each target must be a host
//     name with address records — not an alias (RFC 2181 §10.3, RFC 5321
//     §5.1 "MUST NOT be an alias") and not an IP literal.
//   - With no MX records, the domain itself is the implicit MX if it has A or
//     AAAA records (RFC 5321 §5.1); senders fall back to it, but it is
//     fragile and usually unintended.
//   - A single MX with preference 0 and target "." is a null MX (RFC 7505):
//     the domain accepts no mail. A null MX beside other MX records is an
//     error (RFC 7505 §3).

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// MXResult is the mail routing of a domain as the rest of the internet sees it.
type MXResult struct {
	Domain   string   `json:"domain"`
	Records  []string `json:"records"` // the MX records as received, zone-file text
	Status   string   `json:"status"`  // the MX lookup's status (ok, nxdomain, nodata, servfail, ...)
	NullMX   bool     `json:"null_mx"`
	Implicit bool     `json:"implicit"` // no MX: the domain's own addresses receive mail
	Hosts    []MXHost `json:"hosts"`    // preference order, duplicates removed

	Answer Answer `json:"-"`
}

// MXHost is one mail host with its addresses and their reverse DNS.
type MXHost struct {
	Name       string       `json:"name"` // lower case, no trailing dot
	Preference uint16       `json:"preference"`
	IPLiteral  bool         `json:"ip_literal,omitempty"`
	CNAMEs     []string     `json:"cnames,omitempty"` // the alias chain when the target is a CNAME
	Addrs      []netip.Addr `json:"addrs"`
	Status     string       `json:"status"` // summary of the address lookups: ok, nxdomain, noaddress, unknown

	Lookup HostAddrs `json:"-"`
}

// IPv6 reports whether the host has an AAAA address.
func (h MXHost) IPv6() bool {
	for _, a := range h.Addrs {
		if a.Is6() {
			return true
		}
	}
	return false
}

// AllAddrs returns every distinct address of every host, in host order.
func (m *MXResult) AllAddrs() []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, h := range m.Hosts {
		for _, a := range h.Addrs {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// LookupMX finds the mail hosts of domain and their addresses, with the
// hosts' lookups run concurrently. Reverse DNS is a separate step
// (LookupRDNS) so that checks needing only the addresses (SPF, SMTP,
// blocklists) can start one round trip earlier.
func LookupMX(ctx context.Context, r Resolver, domain string) *MXResult {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	res := &MXResult{Domain: domain}
	res.Answer = r.Lookup(ctx, domain, dns.TypeMX)
	res.Status = res.Answer.Status.String()
	res.Records = res.Answer.Strings()

	switch {
	case res.Answer.Failed(), res.Answer.Status == StatusNXDomain:
		return res
	case res.Answer.Status == StatusNoData:
		// RFC 5321 §5.1: no MX, so the domain itself is the mail host if it has addresses.
		res.Implicit = true
		res.Hosts = []MXHost{{Name: domain}}
	default:
		seen := map[string]bool{}
		mxs := make([]*dns.MX, 0, len(res.Answer.Records))
		for _, rr := range res.Answer.Records {
			if mx, ok := rr.(*dns.MX); ok {
				mxs = append(mxs, mx)
			}
		}
		sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
		for _, mx := range mxs {
			name := strings.TrimSuffix(strings.ToLower(mx.Mx), ".")
			if mx.Mx == "." {
				res.NullMX = true
				continue
			}
			if seen[name] {
				continue // reported by the findings as a duplicate
			}
			seen[name] = true
			h := MXHost{Name: name, Preference: mx.Preference}
			if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
				h.IPLiteral = true
			}
			res.Hosts = append(res.Hosts, h)
		}
	}

	var wg sync.WaitGroup
	for i := range res.Hosts {
		wg.Add(1)
		go func(h *MXHost) {
			defer wg.Done()
			h.Lookup = LookupHost(ctx, r, h.Name)
			h.Addrs = h.Lookup.Addrs
			h.CNAMEs = h.Lookup.A.CNAMEs
			if len(h.CNAMEs) == 0 {
				h.CNAMEs = h.Lookup.AAAA.CNAMEs
			}
			h.Status = hostStatus(h.Lookup)
		}(&res.Hosts[i])
	}
	wg.Wait()
	return res
}

func hostStatus(h HostAddrs) string {
	switch {
	case len(h.Addrs) > 0 && !h.Failed():
		return "ok"
	case len(h.Addrs) > 0:
		return "partial" // one family failed
	case h.Failed():
		return "unknown"
	case h.A.Status == StatusNXDomain && h.AAAA.Status == StatusNXDomain:
		return "nxdomain"
	default:
		return "noaddress"
	}
}

// Findings judges the MX result. The reverse-DNS findings come from
// RDNSResult.Findings.
func (m *MXResult) Findings() []report.Finding {
	var fs []report.Finding
	refMX := "RFC 5321 §5.1"
	switch {
	case m.Answer.Failed():
		return []report.Finding{{ID: "mx.lookup-failed", Severity: report.Unknown,
			Summary:  fmt.Sprintf("could not look up the MX records of %s: %s", m.Domain, m.Answer.Status),
			Evidence: []string{m.Answer.Describe()},
			Cause:    "the resolver did not give a definite answer; the records may well exist",
			Fix:      "retry; if it persists, check the domain's nameservers (dig +trace " + m.Domain + " MX)"}}
	case m.Answer.Status == StatusNXDomain:
		return []report.Finding{{ID: "mx.domain-nxdomain", Severity: report.Failure,
			Summary:    m.Domain + " does not exist in DNS (NXDOMAIN)",
			Evidence:   []string{m.Answer.Describe()},
			Cause:      "no mail can be delivered to a domain that does not exist; senders bounce with 'Host or domain name not found'",
			Fix:        "register the domain or correct its spelling; check the delegation at the registrar",
			References: []string{refMX}}}
	}
	if m.NullMX {
		if len(m.Hosts) > 0 {
			fs = append(fs, report.Finding{ID: "mx.null-mx-mixed", Severity: report.Failure,
				Summary:    "a null MX (\".\") is published beside other MX records",
				Evidence:   m.Records,
				Cause:      "RFC 7505 §3: a domain that has a null MX must not have other MX records; senders may treat the domain as accepting no mail",
				Fix:        "remove either the null MX (the domain receives mail) or every other MX (it does not)",
				References: []string{"RFC 7505 §3"}})
		} else {
			sev, sum := report.Info, m.Domain+" publishes a null MX: it accepts no mail (RFC 7505)"
			if m.nullPreference() != 0 {
				sev, sum = report.Warning, "null MX with a preference other than 0"
			}
			fs = append(fs, report.Finding{ID: "mx.null-mx", Severity: sev, Summary: sum, Evidence: m.Records,
				Cause:      "senders bounce mail to this domain at once with 556 5.1.10 instead of retrying",
				Fix:        "nothing, if the domain really sends and receives no mail; then also publish \"v=spf1 -all\" and a DMARC p=reject record",
				Publish:    []string{m.Domain + ". IN MX 0 ."},
				References: []string{"RFC 7505"}})
			return fs
		}
	}
	if m.Implicit {
		h := m.Hosts[0]
		switch {
		case h.Status == "unknown":
			fs = append(fs, report.Finding{ID: "mx.implicit-unknown", Severity: report.Unknown,
				Summary:  m.Domain + " has no MX records, and the lookup of its own addresses failed",
				Evidence: []string{m.Answer.Describe(), h.Lookup.A.Describe(), h.Lookup.AAAA.Describe()},
				Fix:      "retry; publish an MX record either way"})
		case len(h.Addrs) == 0:
			fs = append(fs, report.Finding{ID: "mx.none", Severity: report.Failure,
				Summary:    m.Domain + " has no MX records and no addresses: it cannot receive mail",
				Evidence:   []string{m.Answer.Describe(), h.Lookup.A.Describe(), h.Lookup.AAAA.Describe()},
				Cause:      "with neither MX nor A/AAAA records, senders have nowhere to deliver (RFC 5321 §5.1)",
				Fix:        "publish an MX record pointing at your mail server, or a null MX if the domain takes no mail",
				Publish:    []string{m.Domain + ". IN MX 10 mail." + m.Domain + ".", m.Domain + ". IN MX 0 .   ; (null MX, if no mail is wanted)"},
				References: []string{refMX, "RFC 7505"}})
			return fs
		default:
			// Info: the implicit MX is standard (RFC 5321 §5.1); whether the
			// host takes mail is what the SMTP part observes.
			fs = append(fs, report.Finding{ID: "mx.implicit", Severity: report.Info,
				Summary:    fmt.Sprintf("%s has no MX records; senders fall back to its own address (%s)", m.Domain, addrList(h.Addrs)),
				Evidence:   []string{m.Answer.Describe()},
				Cause:      "RFC 5321 §5.1 implicit MX: mail goes to the A/AAAA of the domain, usually a web server that does not accept mail",
				Fix:        "publish an MX record for the host that receives mail, or a null MX if the domain takes no mail",
				Publish:    []string{m.Domain + ". IN MX 10 mail." + m.Domain + "."},
				References: []string{refMX, "RFC 7505"}})
		}
	} else if !m.NullMX {
		fs = append(fs, report.Finding{ID: "mx.present", Severity: report.OK,
			Summary: fmt.Sprintf("%d MX record(s)", len(m.Answer.Records)), Evidence: m.Records})
	}

	// Duplicate targets.
	count := map[string]int{}
	for _, rr := range m.Answer.Records {
		if mx, ok := rr.(*dns.MX); ok && mx.Mx != "." {
			count[strings.TrimSuffix(strings.ToLower(mx.Mx), ".")]++
		}
	}
	for _, h := range m.Hosts {
		if count[h.Name] > 1 {
			fs = append(fs, report.Finding{ID: "mx.duplicate-host", Severity: report.Info, Subject: h.Name,
				Summary: fmt.Sprintf("%s is listed %d times in the MX set", h.Name, count[h.Name]),
				Cause:   "duplicate MX targets add no redundancy and suggest a typo in the zone",
				Fix:     "remove the duplicate MX records", Evidence: m.Records})
		}
	}

	anyV6, reachable := false, 0
	for _, h := range m.Hosts {
		fs = append(fs, h.findings(m.Implicit)...)
		if h.IPv6() {
			anyV6 = true
		}
		for _, a := range h.Addrs {
			if SpecialUse(a) == "" {
				reachable++
				break
			}
		}
	}
	if len(m.Hosts) > 0 && reachable == 0 && !allUnknown(m.Hosts) {
		fs = append(fs, report.Finding{ID: "mx.no-reachable-host", Severity: report.Failure,
			Summary: "no mail host of " + m.Domain + " has a public address: the domain cannot receive mail from the internet",
			Fix:     "point the MX records at hosts with public A/AAAA records", References: []string{refMX}})
	}
	if reachable > 0 {
		if anyV6 {
			fs = append(fs, report.Finding{ID: "mx.ipv6", Severity: report.OK, Summary: "at least one mail host has an IPv6 address"})
		} else {
			fs = append(fs, report.Finding{ID: "mx.no-ipv6", Severity: report.Info,
				Summary: "no mail host has an IPv6 (AAAA) address",
				Cause:   "IPv6-only senders cannot reach the domain; most senders still have IPv4, so mail works",
				Fix:     "add AAAA records for the mail hosts when they are reachable over IPv6 (with matching PTR records)"})
		}
	}
	return fs
}

func allUnknown(hs []MXHost) bool {
	for _, h := range hs {
		if h.Status != "unknown" {
			return false
		}
	}
	return true
}

func (m *MXResult) nullPreference() uint16 {
	for _, rr := range m.Answer.Records {
		if mx, ok := rr.(*dns.MX); ok && mx.Mx == "." {
			return mx.Preference
		}
	}
	return 0
}

func (h MXHost) findings(implicit bool) []report.Finding {
	var fs []report.Finding
	ev := []string{h.Lookup.A.Describe(), h.Lookup.AAAA.Describe()}
	ev = append(ev, h.Lookup.A.Strings()...)
	ev = append(ev, h.Lookup.AAAA.Strings()...)
	if h.IPLiteral {
		fs = append(fs, report.Finding{ID: "mx.target-ip-literal", Severity: report.Failure, Subject: h.Name,
			Summary:    "the MX target " + h.Name + " is an IP address, not a host name",
			Cause:      "MX targets are domain names (RFC 1035 §3.3.9); senders look \"" + h.Name + "\" up as a name, and it does not resolve",
			Fix:        "publish an A record for a host name and point the MX at that name",
			Publish:    []string{"mail.example. IN A " + strings.Trim(h.Name, "[]"), "; then: <domain>. IN MX 10 mail.example."},
			References: []string{"RFC 1035 §3.3.9", "RFC 5321 §5.1"}})
		return fs
	}
	if len(h.CNAMEs) > 0 && !implicit {
		fs = append(fs, report.Finding{ID: "mx.target-cname", Severity: report.Warning, Subject: h.Name,
			Summary:    fmt.Sprintf("the MX target %s is an alias (CNAME → %s)", h.Name, strings.Join(h.CNAMEs, " → ")),
			Cause:      "RFC 2181 §10.3 and RFC 5321 §5.1: an MX must point at a name with address records, not an alias; some MTAs refuse or mishandle it",
			Fix:        "point the MX record at the canonical name " + strings.TrimSuffix(h.CNAMEs[len(h.CNAMEs)-1], "."),
			References: []string{"RFC 2181 §10.3", "RFC 5321 §5.1"}})
	}
	switch h.Status {
	case "unknown":
		fs = append(fs, report.Finding{ID: "mx.target-lookup-failed", Severity: report.Unknown, Subject: h.Name,
			Summary: "could not look up the addresses of " + h.Name, Evidence: ev,
			Fix: "retry; if it persists, check the nameservers of " + h.Name})
		return fs
	case "partial":
		fs = append(fs, report.Finding{ID: "mx.target-lookup-partial", Severity: report.Unknown, Subject: h.Name,
			Summary: "one of the address lookups of " + h.Name + " failed; its address list may be incomplete", Evidence: ev})
	case "nxdomain":
		if !implicit {
			fs = append(fs, report.Finding{ID: "mx.target-nxdomain", Severity: report.Failure, Subject: h.Name,
				Summary:    "the MX target " + h.Name + " does not exist (NXDOMAIN)",
				Evidence:   ev,
				Cause:      "senders cannot find the mail host; depending on the other MX records mail is delayed or bounced",
				Fix:        "publish an A (and AAAA) record for " + h.Name + ", or point the MX at an existing host",
				Publish:    []string{h.Name + ". IN A <address of your mail server>"},
				References: []string{"RFC 5321 §5.1"}})
		}
		return fs
	case "noaddress":
		if !implicit {
			fs = append(fs, report.Finding{ID: "mx.target-no-address", Severity: report.Failure, Subject: h.Name,
				Summary:    "the MX target " + h.Name + " has no A or AAAA record",
				Evidence:   ev,
				Fix:        "publish an A (and AAAA) record for " + h.Name,
				Publish:    []string{h.Name + ". IN A <address of your mail server>"},
				References: []string{"RFC 5321 §5.1"}})
		}
		return fs
	}
	var special []string
	for _, a := range h.Addrs {
		if s := SpecialUse(a); s != "" {
			special = append(special, a.String()+" ("+s+")")
		}
	}
	switch {
	case len(special) == len(h.Addrs):
		fs = append(fs, report.Finding{ID: "mx.target-private", Severity: report.Failure, Subject: h.Name,
			Summary:  h.Name + " resolves only to addresses that are not reachable from the internet",
			Evidence: special,
			Cause:    "private, loopback, link-local and reserved addresses (RFC 6890) cannot be reached by other mail servers; often an internal zone leaked into public DNS",
			Fix:      "publish the host's public address in the public zone", References: []string{"RFC 6890", "RFC 1918"}})
	case len(special) > 0:
		fs = append(fs, report.Finding{ID: "mx.target-some-private", Severity: report.Warning, Subject: h.Name,
			Summary:  h.Name + " has some addresses that are not reachable from the internet",
			Evidence: special,
			Cause:    "senders that pick such an address fail and must retry another; delivery is slowed",
			Fix:      "remove the private or reserved addresses from the public zone", References: []string{"RFC 6890"}})
	default:
		fs = append(fs, report.Finding{ID: "mx.target-ok", Severity: report.OK, Subject: h.Name,
			Summary: fmt.Sprintf("%s (preference %d) → %s", h.Name, h.Preference, addrList(h.Addrs))})
	}
	return fs
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
