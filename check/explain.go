package check

// The active follow-up of `mxray explain`: a bounce says what the receiver
// saw when it rejected the message, which may be hours or weeks old. Where
// the text names something that can be checked now, check it:
//
//   - a blocklist zone and an IP ("blocked using zen.spamhaus.org", "listed
//     on SpamCop"): query that list for that IP (RFC 5782 §2) and say whether
//     the listing still holds, with the list's own meaning of the answer;
//   - an SPF/DKIM/DMARC failure and the sender domain: evaluate SPF for the
//     sending IP named in the text (RFC 7208 §4) or lint the SPF tree when
//     no IP is named, and look up the DMARC policy (RFC 9989);
//   - a missing or unconfirmed PTR: look up the reverse DNS of the IP and
//     whether it resolves back (FCrDNS, RFC 8601 §3).
//
// The follow-up observes through the same resolver as every other check; a
// lookup that fails becomes an Unknown finding, never a pass.

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/message"

	"github.com/mxray/mxray/dnscheck/dnsbl"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/mxray/mxray/dnscheck/dmarc"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// FollowUp runs the live checks the explained replies call for. It keeps
// per-run memory so that ten recipients rejected for the same listing cause
// one query.
type FollowUp struct {
	R dnscheck.Resolver
	// Sender is the envelope sender or From address of the bounced message,
	// when known (--sender, or the bounce's recipient); its domain is the
	// one whose SPF/DMARC is checked.
	Sender string
	// IP is the sending IP when the user knows it (--ip); otherwise the IP
	// the reply text names is used.
	IP netip.Addr

	mu   sync.Mutex
	done map[string][]report.Finding
}

// NewFollowUp returns a follow-up over the resolver.
func NewFollowUp(r dnscheck.Resolver, sender string, ip netip.Addr) *FollowUp {
	return &FollowUp{R: r, Sender: sender, IP: ip, done: map[string][]report.Finding{}}
}

// once runs fn for a key the first time and returns the cached findings later.
func (f *FollowUp) once(key string, fn func() []report.Finding) []report.Finding {
	f.mu.Lock()
	if fs, ok := f.done[key]; ok {
		f.mu.Unlock()
		return fs
	}
	f.mu.Unlock()
	fs := fn()
	f.mu.Lock()
	f.done[key] = fs
	f.mu.Unlock()
	return fs
}

// Reply returns the follow-up findings for one explained reply.
func (f *FollowUp) Reply(ctx context.Context, er message.ExplainedReply) []report.Finding {
	var out []report.Finding
	ips := f.textIPs(er)
	for _, l := range blocklistsOf(er) {
		var targets []string
		for _, ip := range ips {
			if (ip.Is4() && l.Takes(dnsbl.KindIPv4)) || (ip.Is6() && l.Takes(dnsbl.KindIPv6)) {
				targets = append(targets, ip.String())
			}
		}
		// A domain blocklist (Spamhaus DBL, URIBL) is asked about the domain
		// the catalog took from the reply.
		if d := er.Captures["domain"]; d != "" && l.Takes(dnsbl.KindDomain) {
			targets = append(targets, strings.ToLower(d))
		}
		for _, target := range targets {
			out = append(out, f.once("dnsbl "+l.Zone+" "+target, func() []report.Finding {
				return []report.Finding{dnsblFollowUp(ctx, f.R, l, target)}
			})...)
		}
	}
	if wantsAuth(er) {
		if dom := f.senderDomain(er); dom != "" {
			var ip netip.Addr
			if len(ips) > 0 {
				ip = ips[0]
			}
			out = append(out, f.once("auth "+dom+" "+ip.String(), func() []report.Finding {
				return authFollowUp(ctx, f.R, dom, f.Sender, ip)
			})...)
		} else {
			out = append(out, report.Finding{ID: "explain.auth-no-domain", Severity: report.Info,
				Summary: "the reply names an authentication failure but not the sender domain; pass --sender ADDR to check its SPF and DMARC now"})
		}
	}
	if wantsPTR(er) {
		if len(ips) == 0 {
			out = append(out, report.Finding{ID: "explain.ptr-no-ip", Severity: report.Info,
				Summary: "the reply is about reverse DNS but names no IP address; pass --ip to look it up now"})
		}
		for _, ip := range ips {
			out = append(out, f.once("ptr "+ip.String(), func() []report.Finding {
				res := dnscheck.CheckPTR(ctx, f.R, ip)
				fs := res.Findings("the sending IP")
				// The PTR must name the sending server's host name, which a
				// bounce does not give: say so instead of publishing a guess.
				for i := range fs {
					if len(fs[i].Publish) > 0 {
						fs[i].Publish = nil
						fs[i].Fix = strings.TrimSpace(fs[i].Fix + " The PTR must name the host name the server uses in HELO/EHLO, and that name must resolve back to " + ip.String() + ".")
					}
				}
				return fs
			})...)
		}
	}
	return out
}

// textIPs are the addresses the follow-up is about: --ip, else the ones
// the catalog captured, else those in the reply text. The remote MTA's own
// address (the host that rejected) is not the sender's and is left out.
func (f *FollowUp) textIPs(er message.ExplainedReply) []netip.Addr {
	if f.IP.IsValid() {
		return []netip.Addr{f.IP}
	}
	var cands []string
	if v := er.Captures["ip"]; v != "" {
		cands = append(cands, v)
	}
	cands = append(cands, message.ExtractEntities(er.Reply).IPs...)
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, c := range cands {
		a, err := netip.ParseAddr(c)
		if err != nil || seen[a] || a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() {
			continue
		}
		if strings.Contains(er.RemoteMTA, c) {
			continue
		}
		seen[a] = true
		out = append(out, a)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// Providers' names as they appear in reply text, mapped to the zone the
// follow-up queries when the text names the list but not its zone.
var namedLists = []struct {
	re   *lazyre.Regexp
	zone string
}{
	{lazyre.New(`(?i)spamhaus`), "zen.spamhaus.org"},
	{lazyre.New(`(?i)spamcop`), "bl.spamcop.net"},
	{lazyre.New(`(?i)barracuda`), "b.barracudacentral.org"},
	{lazyre.New(`(?i)uceprotect`), "dnsbl-1.uceprotect.net"},
	{lazyre.New(`(?i)mailspike`), "bl.mailspike.net"},
	{lazyre.New(`(?i)\bpsbl\b`), "psbl.surriel.com"},
}

// blocklistsOf returns the catalog lists the reply names.
func blocklistsOf(er message.ExplainedReply) []dnsbl.List {
	var zones []string
	if z := er.Captures["zone"]; z != "" {
		zones = append(zones, z)
	}
	zones = append(zones, message.ExtractEntities(er.Reply).Zones...)
	var out []dnsbl.List
	seen := map[string]bool{}
	for _, z := range zones {
		if l, ok := dnsbl.ByZone(z); ok && !seen[l.Zone] {
			seen[l.Zone] = true
			out = append(out, l)
		}
	}
	if len(out) == 0 && (er.Reason == "blocked" || er.Reason == "badreputation" || strings.Contains(er.Cause, "dnsbl")) {
		for _, n := range namedLists {
			if n.re.MatchString(er.Reply) {
				if l, ok := dnsbl.ByZone(n.zone); ok && !seen[l.Zone] {
					seen[l.Zone] = true
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// dnsblFollowUp queries one list for one IP and says what it means now.
func dnsblFollowUp(ctx context.Context, r dnscheck.Resolver, l dnsbl.List, target string) report.Finding {
	res := dnsbl.Query(ctx, r, l, target)
	subj := target + " on " + l.Name
	ev := append([]string{"query " + res.Query}, res.Evidence...)
	refs := []string{"RFC 5782 §2"}
	switch res.Status {
	case dnsbl.Listed:
		meaning := strings.Join(res.Meanings, "; ")
		f := report.Finding{ID: "explain.dnsbl-still-listed", Severity: report.Failure, Subject: subj,
			Summary:  "still listed: " + l.Name + " (" + l.Zone + ") lists " + target,
			Evidence: ev, References: refs}
		if meaning != "" {
			f.Summary += " — " + meaning
		}
		if len(res.TXT) > 0 {
			f.Evidence = append(f.Evidence, res.TXT...)
		}
		lm := strings.ToLower(meaning + " " + strings.Join(res.TXT, " "))
		switch {
		case strings.Contains(lm, "pbl") || strings.Contains(lm, "dynamic") || strings.Contains(lm, "policy"):
			f.Cause = "the address is in a range its owner says should not send mail directly (dynamic / end-user space)"
			f.Fix = "send through your provider's relay (smarthost) instead of directly; if this is a static server address, ask its owner to remove it from the policy list"
		default:
			f.Cause = "the list still holds the listing the bounce reported"
			f.Fix = "find and stop the cause of the listing (compromised account, open relay, spam), then request removal"
		}
		if res.DelistURL != "" {
			f.Fix += ": " + res.DelistURL
			f.References = append(f.References, res.DelistURL)
		} else if res.LookupURL != "" {
			f.References = append(f.References, res.LookupURL)
		}
		return f
	case dnsbl.NotListed:
		return report.Finding{ID: "explain.dnsbl-delisted", Severity: report.OK, Subject: subj,
			Summary:  "no longer listed: " + l.Name + " does not list " + target + " now — retry the delivery",
			Evidence: ev, Fix: "retry; if the receiver still rejects, its cache may hold the old answer for a while", References: refs}
	}
	reason := res.Reason
	if reason == "" {
		reason = "no usable answer"
	}
	return report.Finding{ID: "explain.dnsbl-unknown", Severity: report.Unknown, Subject: subj,
		Summary:  "could not tell whether " + l.Name + " still lists " + target + ": " + reason,
		Evidence: ev, Fix: "check with the list's lookup page, or query it through a resolver of your own", References: refs}
}

// SPF/DKIM/DMARC causes; SMTP AUTH causes ("auth.required", …) are about
// the submission login, not the domain's DNS, and get no follow-up.
var authCauseRE = lazyre.New(`(?i)(spf|dkim|dmarc|unauthenticated)`)

func wantsAuth(er message.ExplainedReply) bool {
	return er.Reason == "authfailure" || (er.Reason != "feedback" && authCauseRE.MatchString(er.Cause))
}

var ptrCauseRE = lazyre.New(`(?i)(ptr|rdns|reverse)`)

func wantsPTR(er message.ExplainedReply) bool {
	return er.Reason == "requireptr" || ptrCauseRE.MatchString(er.Cause)
}

// senderDomain: --sender's domain, else a domain the catalog captured.
func (f *FollowUp) senderDomain(er message.ExplainedReply) string {
	if _, d, ok := strings.Cut(f.Sender, "@"); ok && d != "" {
		return strings.ToLower(d)
	}
	if d := er.Captures["domain"]; d != "" {
		return strings.ToLower(d)
	}
	return ""
}

// authFollowUp evaluates SPF for the IP (or lints the SPF tree when no IP
// is known) and looks up DMARC. DKIM needs a selector, which a bounce
// rarely names: it is left to `mxray dkim DOMAIN --selector S`.
func authFollowUp(ctx context.Context, r dnscheck.Resolver, domain, sender string, ip netip.Addr) []report.Finding {
	var out []report.Finding
	chk := spf.Analyze(ctx, r, domain)
	if ip.IsValid() {
		if sender == "" {
			sender = "postmaster@" + domain
		}
		ev := chk.Evaluate(ctx, r, ip, sender, "")
		f := report.Finding{ID: "explain.spf-now", Subject: domain,
			Summary:    "SPF for " + ip.String() + " sending as " + domain + " is now: " + string(ev.Result),
			Evidence:   []string{"record: " + chk.Record, "deciding term: " + ev.Term, ev.Reason},
			References: []string{"RFC 7208 §2.6"}}
		switch ev.Result {
		case spf.Pass:
			f.Severity = report.OK
			f.Fix = "SPF passes now; if the bounce was an SPF failure, the record has been fixed since — retry"
		case spf.TempError:
			f.Severity = report.Unknown
		default:
			f.Severity = report.Failure
			f.Fix = "authorize the sending IP in the SPF record of " + domain + " (add an ip4:/ip6: or the provider's include:)"
		}
		out = append(out, f)
	}
	out = append(out, chk.Findings...)
	out = append(out, dmarc.Lookup(ctx, r, domain).Findings()...)
	return out
}
