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
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/maillog"

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
	ips := f.textIPs(er)
	out := f.blocklists(ctx, er, ips)
	if wantsAuth(er) {
		if dom := f.senderDomain(er); dom != "" {
			out = append(out, f.auth(ctx, dom, ips)...)
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
		out = append(out, f.ptr(ctx, ips)...)
	}
	return out
}

// blocklists asks each list the reply names about the addresses (and the
// domain) it names: once per (list, target) in a run.
func (f *FollowUp) blocklists(ctx context.Context, er message.ExplainedReply, ips []netip.Addr) []report.Finding {
	var out []report.Finding
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
	return out
}

// auth evaluates a sender domain's SPF (for the first address) and DMARC:
// once per (domain, address) in a run.
func (f *FollowUp) auth(ctx context.Context, dom string, ips []netip.Addr) []report.Finding {
	var ip netip.Addr
	if len(ips) > 0 {
		ip = ips[0]
	}
	return f.once("auth "+dom+" "+ip.String(), func() []report.Finding {
		return authFollowUp(ctx, f.R, dom, f.Sender, ip)
	})
}

// ptr looks up the reverse DNS of each address: once per address in a run.
func (f *FollowUp) ptr(ctx context.Context, ips []netip.Addr) []report.Finding {
	var out []report.Finding
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
	return out
}

// Bounds of the follow-up of one log group: the most frequent (list,
// address) pairs and sender domains are checked, not every one of a
// million lines.
const (
	groupMaxListed  = 10
	groupMaxSenders = 5
)

// Group returns the follow-up of a group of log events: once per distinct
// (list, address) the refusals name, and once per sender domain for
// authentication failures — not once per line.
func (f *FollowUp) Group(ctx context.Context, g *maillog.Group) []report.Finding {
	base := g.Reply()
	var out []report.Finding
	if g.Listed.Len() > 0 {
		for _, c := range g.Listed.Top(groupMaxListed) {
			zone, ip, _ := strings.Cut(c.Value, " ")
			er := base
			er.Reply = "blocked using " + zone // names the list and nothing else
			er.Captures = map[string]string{"zone": zone, "ip": ip}
			a, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			out = append(out, f.blocklists(ctx, er, []netip.Addr{a})...)
		}
	} else {
		out = append(out, f.blocklists(ctx, base, f.textIPs(base))...)
	}
	if wantsAuth(base) && g.Direction != maillog.Inbound {
		for _, c := range g.Senders.Top(groupMaxSenders) {
			out = append(out, f.auth(ctx, c.Value, f.textIPs(base))...)
		}
	}
	if wantsPTR(base) && g.Direction != maillog.Inbound {
		out = append(out, f.ptr(ctx, f.textIPs(base))...)
	}
	return out
}

// Verdict combines an explained reply's finding with what the follow-up
// found true now: when the reply names a blocklist, the headline and the
// severity follow the list's answer today, and the reply's own reading
// moves to the evidence. Inbound is a refusal this server gave a client
// (a mail log): then a listing that holds is this server doing its job,
// and one that does not is a refusal to look at. Without live evidence
// (--offline, or nothing to check) the reply's reading stands.
func Verdict(main report.Finding, live []report.Finding, inbound bool) report.Finding {
	var listed, delisted, refused, unknown []report.Finding
	for _, f := range live {
		switch f.ID {
		case "explain.dnsbl-still-listed":
			listed = append(listed, f)
		case "explain.dnsbl-delisted":
			delisted = append(delisted, f)
		case "explain.dnsbl-refused":
			refused = append(refused, f)
		case "explain.dnsbl-unknown":
			unknown = append(unknown, f)
		}
	}
	all := len(listed) + len(delisted) + len(refused) + len(unknown)
	if all == 0 {
		return main
	}
	main.Evidence = append([]string{"the reply said: " + main.Summary}, main.Evidence...)
	more := func(fs []report.Finding) string {
		if n := all - 1; n > 0 && len(fs) < all {
			return fmt.Sprintf(" (%d more list/address %s checked below)", n, plural(n, "pair", "pairs"))
		}
		return ""
	}
	switch {
	case len(listed) > 0:
		main.Summary = listed[0].Summary + more(listed)
		main.Severity, main.Fix = report.Failure, listed[0].Fix
		if inbound {
			main.Summary = "the client is " + main.Summary + ": this server's refusal holds"
			main.Severity, main.Fix = report.Info, "nothing to fix on this server; the client's operator must get the address delisted"
		}
	case len(refused) > 0:
		main.Summary = refused[0].Summary + ". Receivers that query through public resolvers get the same code and some MTAs take it for a listing: " +
			"ask the receiver's postmaster, and check with a DQS key or your own resolver" + more(refused)
		main.Severity, main.Fix = report.Unknown, refused[0].Fix
		if inbound {
			main.Severity = report.Warning
			main.Fix = "if this server queries the list through a public or shared resolver it gets the same error code and may refuse clients that are not listed: " +
				"give it a resolver of its own (or a DQS key) and accept only listing codes (Postfix: reject_rbl_client zen.spamhaus.org=127.0.0.[2..255])"
		}
	case len(delisted) == all:
		main.Summary = "not listed now: delisted since, or the receiver's lookup is stale — retry (" + delisted[0].Subject + ")" + more(delisted)
		main.Severity, main.Fix = report.Warning, delisted[0].Fix
		if inbound {
			main.Summary = "not listed now: the client was delisted since, or this server's lookup was stale (" + delisted[0].Subject + ")" + more(delisted)
			main.Fix = "if the client's mail is wanted, ask its sender to retry; check that this server's resolver does not cache DNSBL answers longer than their TTL"
		}
	default:
		u := append(unknown, delisted...)
		main.Summary = u[0].Summary + more(u)
		main.Severity, main.Fix = report.Unknown, u[0].Fix
	}
	return main
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Reproduce names the command that repeats a refusal from the sending
// address, when the reply blames the client: its IP (a blocklist, its
// reputation, its reverse DNS) at a stage before the message content. The
// command has to run on the sending server: --source binds one of its
// own addresses.
func Reproduce(er message.ExplainedReply, ip netip.Addr) (report.Finding, bool) {
	switch er.Reason {
	case "blocked", "badreputation", "requireptr":
	default:
		return report.Finding{}, false
	}
	if er.Stage == catalog.StageDATA || er.ActionBy == catalog.ActionNobody {
		// After the content the refusal is about the message; and a
		// refusal nobody has to act on (greylisting) needs no repeating.
		return report.Finding{}, false
	}
	host := remoteHost(er.RemoteMTA)
	if host == "" {
		host = "MX-HOST"
	}
	src := "SENDING-IP"
	switch {
	case ip.IsValid():
		src = ip.String()
	case er.Captures["ip"] != "":
		src = er.Captures["ip"]
	}
	cmd := "mxray smtp " + host + " --source " + src
	return report.Finding{ID: "explain.reproduce", Severity: report.Info,
		Summary: "reproduce the refusal from the sending address: " + cmd,
		Fix:     "run it on the sending server (--source binds one of its own addresses) to see whether the receiver still refuses that address, with the transcript; no message is sent"}, true
}

// remoteHost is the host name of a Remote-MTA field or a log's
// "host [ip]" ("dns; mx.example.net", "mx.example.net [192.0.2.1]").
func remoteHost(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if i := strings.IndexAny(s, " ["); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || strings.ContainsAny(s, "()<>") {
		return ""
	}
	return s
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
	switch {
	case res.Status == dnsbl.Listed:
		return dnsblListedNow(l, res, subj, ev, refs)
	case res.Status == dnsbl.NotListed:
		return report.Finding{ID: "explain.dnsbl-delisted", Severity: report.OK, Subject: subj,
			Summary:  "not listed now: " + l.Name + " does not list " + target + " — delisted since, or the receiver's lookup is stale; retry",
			Evidence: ev, Fix: "retry the delivery; if the receiver still refuses, its resolver may cache the old answer for a while (the list's TTL), or it queries another list than it names", References: refs}
	case res.Refused:
		code := strings.Join(res.Codes, ", ")
		if code == "" {
			code = "an error code"
		}
		return report.Finding{ID: "explain.dnsbl-refused", Severity: report.Unknown, Subject: subj,
			Summary:  "the list refused our resolver (" + code + "): cannot confirm whether " + l.Name + " lists " + target,
			Evidence: append(ev, res.Reason),
			Cause: "Receivers that query " + l.Zone + " through public resolvers get the same code, and some MTAs take it for a listing: " +
				"then the refusal was a false block on the receiver's side",
			Fix: "ask the receiver's postmaster whether their server queries " + l.Zone + " through a public or shared resolver (the fix is theirs: their own resolver, a DQS key, or accepting only real listing codes); check the listing yourself with a DQS key or your own recursive resolver (mxray blocklist " + target + " --resolver ADDR)",
			References: append(refs, "https://www.spamhaus.org/news/article/807/using-our-public-mirrors-check-your-return-codes-now",
				"https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html")}
	}
	reason := res.Reason
	if reason == "" {
		reason = "no usable answer"
	}
	return report.Finding{ID: "explain.dnsbl-unknown", Severity: report.Unknown, Subject: subj,
		Summary:  "cannot confirm now: could not tell whether " + l.Name + " lists " + target + ": " + reason,
		Evidence: ev, Fix: "check with the list's lookup page, or query it through a resolver of your own", References: refs}
}

// dnsblListedNow is the finding for a listing that holds, with the list's
// own meaning of the code (PBL, SBL, XBL…) first.
func dnsblListedNow(l dnsbl.List, res dnsbl.Result, subj string, ev, refs []string) report.Finding {
	meaning := strings.Join(meaningsFirst(res.Meanings), "; ")
	f := report.Finding{ID: "explain.dnsbl-still-listed", Severity: report.Failure, Subject: subj,
		Summary:  "listed now: " + l.Name + " (" + l.Zone + ") lists " + res.Target,
		Evidence: ev, References: refs}
	if meaning != "" {
		f.Summary = "listed now: " + meaning + " — " + l.Name + " (" + l.Zone + ") lists " + res.Target
	}
	if len(res.TXT) > 0 {
		f.Evidence = append(f.Evidence, res.TXT...)
	}
	lm := strings.ToLower(meaning + " " + strings.Join(res.TXT, " "))
	switch {
	case len(res.Fixes) > 0:
		f.Cause = "the list still holds the listing the reply reported"
		f.Fix = strings.Join(res.Fixes, " ")
	case strings.Contains(lm, "pbl") || strings.Contains(lm, "dynamic") || strings.Contains(lm, "policy"):
		f.Cause = "the address is in a range its owner says should not send mail directly (dynamic / end-user space)"
		f.Fix = "send through your provider's relay (smarthost) instead of directly; if this is a static server address, ask its owner to remove it from the policy list"
	default:
		f.Cause = "the list still holds the listing the reply reported"
		f.Fix = "find and stop the cause of the listing (compromised account, open relay, spam), then request removal"
	}
	if res.DelistURL != "" {
		f.Fix += ": " + res.DelistURL
		f.References = append(f.References, res.DelistURL)
	} else if res.LookupURL != "" {
		f.References = append(f.References, res.LookupURL)
	}
	return f
}

// meaningsFirst turns the catalog's "127.0.0.11: PBL …" into "PBL …
// (127.0.0.11)": the list's word first.
func meaningsFirst(ms []string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		if code, text, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(code, "127.") {
			m = text + " (" + code + ")"
		}
		out[i] = m
	}
	return out
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
