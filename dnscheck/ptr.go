package dnscheck

// Reverse DNS of mail hosts. Receivers reject or score down clients whose
// address has no PTR record, whose PTR name does not resolve back to the
// address (forward-confirmed reverse DNS, "FCrDNS", RFC 8601 §3 iprev), or
// whose PTR looks like an end-user access line ("dynamic", "dsl", the
// address's digits). The seed articles name missing or generic rDNS as a
// common cause of "554 ... rejected" replies; Postfix says
// "cannot find your hostname" (reject_unknown_client_hostname).

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// PTRResult is the reverse DNS of one address.
type PTRResult struct {
	Addr   netip.Addr `json:"addr"`
	Status string     `json:"status"` // status of the PTR lookup
	Names  []PTRName  `json:"names,omitempty"`

	Answer Answer `json:"-"`
}

// PTRName is one PTR target and what mxray found out about it.
type PTRName struct {
	Name      string `json:"name"`
	Valid     bool   `json:"valid"`             // a syntactically valid host name
	Confirmed bool   `json:"confirmed"`         // resolves back to the address (FCrDNS)
	Forward   string `json:"forward"`           // status of the forward lookup
	Generic   string `json:"generic,omitempty"` // why it looks generic/dynamic, if it does

	ForwardAnswer Answer `json:"-"`
}

// ConfirmedName returns the first forward-confirmed PTR name, or "".
func (p PTRResult) ConfirmedName() string {
	for _, n := range p.Names {
		if n.Confirmed {
			return n.Name
		}
	}
	return ""
}

// CheckPTR looks up the PTR of addr and forward-confirms every name.
func CheckPTR(ctx context.Context, r Resolver, addr netip.Addr) PTRResult {
	res := PTRResult{Addr: addr}
	rev, err := dns.ReverseAddr(addr.String())
	if err != nil {
		res.Status = StatusError.String()
		return res
	}
	res.Answer = r.Lookup(ctx, rev, dns.TypePTR)
	res.Status = res.Answer.Status.String()
	qtype := dns.TypeA
	if addr.Is6() {
		qtype = dns.TypeAAAA
	}
	var names []string
	for _, rr := range res.Answer.Records {
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, strings.TrimSuffix(strings.ToLower(p.Ptr), "."))
		}
	}
	res.Names = make([]PTRName, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		res.Names[i] = PTRName{Name: n, Valid: IsHostname(n), Generic: GenericPTR(n, addr)}
		if !res.Names[i].Valid {
			continue
		}
		wg.Add(1)
		go func(pn *PTRName) {
			defer wg.Done()
			pn.ForwardAnswer = r.Lookup(ctx, pn.Name, qtype)
			pn.Forward = pn.ForwardAnswer.Status.String()
			for _, a := range AddrsOf(pn.ForwardAnswer) {
				if a == addr {
					pn.Confirmed = true
				}
			}
		}(&res.Names[i])
	}
	wg.Wait()
	return res
}

var genericWords = lazyre.New(`(^|[^a-z])(dyn|dynamic|dynip|dsl|adsl|vdsl|xdsl|pool|dhcp|cable|ppp|pppoe|dialup|dial|dialin|broadband|bb|cust|customer|client|clients|host|ip|res|resnet|residential|user|users|unassigned|unknown|nat|wireless|wifi|mobile|cpe|fibre|fiber|ftth|static)([^a-z]|$)`)

// GenericPTR says why name looks like an ISP's generic reverse name for an
// access line, or "" when it does not. Receivers (Spamhaus PBL policy,
// Gmail, Microsoft) treat such names as end-user hosts that should not send
// mail directly.
func GenericPTR(name string, addr netip.Addr) string {
	n := strings.ToLower(name)
	if addr.Is4() {
		b := addr.As4()
		o := []string{strconv.Itoa(int(b[0])), strconv.Itoa(int(b[1])), strconv.Itoa(int(b[2])), strconv.Itoa(int(b[3]))}
		for _, sep := range []string{"-", ".", "_", ""} {
			fwd := strings.Join(o, sep)
			rev := o[3] + sep + o[2] + sep + o[1] + sep + o[0]
			if sep == "" {
				// Zero-padded form, e.g. 203000113007.
				fwd = fmt.Sprintf("%03d%03d%03d%03d", b[0], b[1], b[2], b[3])
				rev = fmt.Sprintf("%03d%03d%03d%03d", b[3], b[2], b[1], b[0])
			}
			if containsToken(n, fwd) || containsToken(n, rev) {
				return "contains the address's digits (" + addr.String() + ")"
			}
		}
		hex := fmt.Sprintf("%02x%02x%02x%02x", b[0], b[1], b[2], b[3])
		if strings.Contains(n, hex) {
			return "contains the address in hexadecimal (" + hex + ")"
		}
		// The last two octets with a separator and a generic word next to them.
		last2 := o[2] + "-" + o[3]
		if strings.Contains(n, last2) && genericWords.MatchString(n) {
			return "contains part of the address and a generic word"
		}
	} else {
		// IPv6 generic names embed long hex runs of the address.
		h := strings.ReplaceAll(addr.StringExpanded(), ":", "")
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(n, "-", ""), ".", ""), h[16:]) {
			return "contains the address's interface identifier"
		}
	}
	first := strings.SplitN(n, ".", 2)[0]
	if m := genericWords.FindStringSubmatch(first); m != nil && strings.ContainsAny(first, "0123456789") {
		return fmt.Sprintf("the first label %q has the word %q and digits, as ISPs' access-line names do", first, m[2])
	}
	return ""
}

// containsToken reports whether s contains tok not glued to further digits.
func containsToken(s, tok string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isDecimalDigit(s[j-1])
		after := j+len(tok) == len(s) || !isDecimalDigit(s[j+len(tok)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isDecimalDigit(c byte) bool { return c >= '0' && c <= '9' }

// RDNSResult is the reverse DNS of every address of every mail host.
type RDNSResult struct {
	Results []PTRResult `json:"results"`
}

// For returns the reverse DNS of one address.
func (r *RDNSResult) For(addr netip.Addr) (PTRResult, bool) {
	for _, p := range r.Results {
		if p.Addr == addr {
			return p, true
		}
	}
	return PTRResult{}, false
}

// LookupRDNS checks the reverse DNS of every publicly routable address of
// the MX hosts, concurrently. (Special-use addresses are skipped: the MX
// findings already say they are unreachable.)
func LookupRDNS(ctx context.Context, r Resolver, mx *MXResult) *RDNSResult {
	var addrs []netip.Addr
	for _, a := range mx.AllAddrs() {
		if SpecialUse(a) == "" {
			addrs = append(addrs, a)
		}
	}
	res := &RDNSResult{Results: make([]PTRResult, len(addrs))}
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Results[i] = CheckPTR(ctx, r, a)
		}()
	}
	wg.Wait()
	return res
}

// Findings judges the reverse DNS of every address of every MX host.
func (r *RDNSResult) Findings(mx *MXResult) []report.Finding {
	var fs []report.Finding
	for _, h := range mx.Hosts {
		for _, a := range h.Addrs {
			if p, ok := r.For(a); ok {
				fs = append(fs, p.Findings(h.Name)...)
			}
		}
	}
	return fs
}

// Findings judges one address's reverse DNS; host is the mail host name
// that should appear in (or match) the PTR.
func (p PTRResult) Findings(host string) []report.Finding {
	subj := p.Addr.String()
	rev, _ := dns.ReverseAddr(p.Addr.String())
	ev := []string{p.Answer.Describe()}
	ev = append(ev, p.Answer.Strings()...)
	publishPTR := []string{fmt.Sprintf("%s IN PTR %s.   ; set by whoever controls the address block (your hosting or ISP)", rev, host)}
	refs := []string{"RFC 1912 §2.1", "RFC 8601 §3 (iprev)"}
	switch {
	case p.Answer.Failed():
		return []report.Finding{{ID: "ptr.lookup-failed", Severity: report.Unknown, Subject: subj,
			Summary: "could not look up the reverse DNS (PTR) of " + subj, Evidence: ev,
			Fix: "retry; reverse zones are served by the address owner's nameservers"}}
	case len(p.Names) == 0:
		return []report.Finding{{ID: "ptr.missing", Severity: report.Failure, Subject: subj,
			Summary:  subj + " (" + host + ") has no reverse DNS (PTR) record",
			Evidence: ev,
			Cause:    "many receivers reject or defer mail from addresses without a PTR (Postfix: \"cannot find your hostname\", Gmail 550 5.7.25, the 554 rejections the seed articles describe)",
			Fix:      "ask the owner of the address (hosting provider or ISP) to set a PTR naming the mail host, and make that name resolve back to " + subj,
			Publish:  publishPTR, References: refs}}
	}
	var fs []report.Finding
	if len(p.Names) > 1 {
		// Info: iprev (RFC 8601 §3) passes when any name confirms; a second
		// name only adds a lookup.
		fs = append(fs, report.Finding{ID: "ptr.multiple", Severity: report.Info, Subject: subj,
			Summary:  fmt.Sprintf("%s has %d PTR records", subj, len(p.Names)),
			Evidence: ev, Cause: "receivers usually check only one PTR name; which one is random",
			Fix: "keep a single PTR record naming the mail host", References: refs})
	}
	confirmed := p.ConfirmedName()
	for _, n := range p.Names {
		switch {
		case !n.Valid:
			fs = append(fs, report.Finding{ID: "ptr.invalid-name", Severity: report.Failure, Subject: subj,
				Summary:  fmt.Sprintf("the PTR of %s, %q, is not a valid host name", subj, n.Name),
				Evidence: ev, Cause: "receivers cannot forward-confirm a name with invalid characters, and treat the client as having no usable rDNS",
				Fix: "set the PTR to the mail host's name (letters, digits, hyphens)", Publish: publishPTR, References: []string{"RFC 1123 §2.1", "RFC 952"}})
		case !n.Confirmed && confirmed == "":
			fwd := append([]string{n.ForwardAnswer.Describe()}, n.ForwardAnswer.Strings()...)
			sev, sum := report.Failure, fmt.Sprintf("the PTR name %s does not resolve back to %s (no forward-confirmed rDNS)", n.Name, subj)
			if n.ForwardAnswer.Failed() {
				sev, sum = report.Unknown, fmt.Sprintf("could not check whether %s resolves back to %s", n.Name, subj)
			}
			fs = append(fs, report.Finding{ID: "ptr.not-confirmed", Severity: sev, Subject: subj, Summary: sum,
				Evidence: append(ev, fwd...),
				Cause:    "receivers require forward-confirmed reverse DNS (PTR → name → same address); Postfix reject_unknown_client_hostname, Gmail and Microsoft check it",
				Fix:      fmt.Sprintf("publish %s. IN %s %s, or change the PTR to a name that already resolves to it", n.Name, rrType(p.Addr), subj),
				Publish:  []string{fmt.Sprintf("%s. IN %s %s", n.Name, rrType(p.Addr), subj)}, References: refs})
		}
		if n.Generic != "" {
			fs = append(fs, report.Finding{ID: "ptr.generic", Severity: report.Warning, Subject: subj,
				Summary:  fmt.Sprintf("the PTR name %s looks generic/dynamic: %s", n.Name, n.Generic),
				Evidence: ev,
				Cause:    "receivers and blocklists (Spamhaus PBL) treat generic reverse names as end-user access lines that should send through their provider's relay",
				Fix:      "ask the address owner for a PTR naming the mail host (e.g. " + host + "), forward-confirmed",
				Publish:  publishPTR, References: refs})
		}
	}
	if confirmed != "" && len(fs) == 0 {
		fs = append(fs, report.Finding{ID: "ptr.ok", Severity: report.OK, Subject: subj,
			Summary: fmt.Sprintf("%s → %s → %s (forward-confirmed)", subj, confirmed, subj)})
	}
	return fs
}

func rrType(a netip.Addr) string {
	if a.Is4() {
		return "A"
	}
	return "AAAA"
}
