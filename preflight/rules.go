package preflight

// The provider table. First the facts — one judgement per requirement id,
// the same for every provider (does SPF pass for every IP, ...) — then, per
// provider, whether its published rules require it of this sender, and the
// rejection it documents. The ids are stable (JSON):
//
//	spf, dkim, dmarc, alignment, ptr, one-click-unsubscribe,
//	message-format, tls, spam-rate, blocklists
//
// Thresholds (bulk-sender-requirements.md): Gmail counts 5,000 or more
// messages a day to personal Gmail accounts; Microsoft more than 5,000 a
// day to its consumer addresses; Yahoo gives no number, so its bulk rows
// always apply. Without Options.Volume every bulk row applies.

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/spf"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

// RequirementIDs are the rows of the table, in order.
var RequirementIDs = []string{"spf", "dkim", "dmarc", "alignment", "ptr", "one-click-unsubscribe",
	"message-format", "tls", "spam-rate", "blocklists"}

// Bulk thresholds, messages a day.
const (
	GmailBulk     = 5000 // "5,000 or more"
	MicrosoftBulk = 5000 // "more than 5,000"
)

// fact is the judgement of one requirement id.
type fact struct {
	status   report.RequirementStatus
	summary  string
	variants []string // the finer cause, most specific first: selects its documented reply
	findings []string // ids of the evidence findings that may back it
	ip       string   // the IP it is about, for the reply's text
	// needs names the input that was not given, for a row that is manual
	// only for want of it ("--message"); "" for a row only the sender can
	// ever see (tls, spam-rate).
	needs string
}

type facts map[string]fact

// Inputs a row may be manual for want of.
const (
	needsMessage         = "--message"
	needsMessageSelector = "--message or --selector"
)

// Unchecked is a requirement that applies to this sender and was not
// checked because an input was not given.
type Unchecked struct {
	ID        string   `json:"id"`
	Providers []string `json:"providers"`
	Needs     string   `json:"needs"`
}

// evaluate builds the table: every provider × every requirement; and the
// requirements left unchecked for want of an input.
func evaluate(res *Result, opt Options) ([]report.Requirement, []Unchecked) {
	f := judge(res)
	var out []report.Requirement
	var unchecked []Unchecked
	for _, p := range provider.All {
		for _, id := range RequirementIDs {
			ru := applicability(p.ID, id, res, f)
			x := f[id]
			if ru.fact != nil {
				x = *ru.fact
			}
			variants := x.variants
			if ru.variant != "" {
				variants = []string{ru.variant}
			}
			q := report.Requirement{Provider: string(p.ID), ProviderName: p.Name, ID: id, Status: x.status,
				Applies: ru.applies, Summary: x.summary, Note: ru.note, Findings: x.findings, References: references(p.ID, id)}
			if x.status == report.ReqFail || x.status == report.ReqUnknown || x.status == report.ReqManual {
				q.Reply = replyFor(p.ID, id, variants, res.From.Domain, orFirstIP(x.ip, res))
			}
			if q.Applies && x.status == report.ReqManual && x.needs != "" {
				unchecked = addUnchecked(unchecked, id, p.Short, x.needs)
			}
			out = append(out, q)
		}
	}
	return out, unchecked
}

func addUnchecked(us []Unchecked, id, prov, needs string) []Unchecked {
	for i := range us {
		if us[i].ID == id {
			us[i].Providers = append(us[i].Providers, prov)
			return us
		}
	}
	return append(us, Unchecked{ID: id, Providers: []string{prov}, Needs: needs})
}

// orFirstIP is ip, or the first sending IP.
func orFirstIP(ip string, res *Result) string {
	if ip != "" || len(res.IPs) == 0 {
		return ip
	}
	return res.IPs[0].IP.String()
}

// judge computes the facts from the result.
func judge(res *Result) facts {
	return facts{
		"spf":                   spfFact(res),
		"dkim":                  dkimFact(res),
		"dmarc":                 dmarcFact(res),
		"alignment":             alignmentFact(res),
		"ptr":                   ptrFact(res, func(netip.Addr) bool { return true }),
		"one-click-unsubscribe": oneClickFact(res),
		"message-format":        formatFact(res),
		"tls": {status: report.ReqManual, summary: "mxray cannot see how your platform connects to the recipients' servers: " +
			"check that a delivered test message's Received header says \"with ESMTPS\", or Gmail Postmaster Tools' compliance status"},
		"spam-rate": {status: report.ReqManual, summary: "only the sender can see the spam rate: Gmail Postmaster Tools " +
			"(below 0.3%, and below 0.10% for bulk senders), Yahoo's complaint feedback loop (below 0.3%); Microsoft publishes no threshold"},
		"blocklists": blocklistFact(res),
	}
}

func spfFact(res *Result) fact {
	f := fact{status: report.ReqPass, findings: []string{"spf.result-pass"}}
	var bad, unknown []string
	for _, ev := range res.SPF.Evaluations {
		line := fmt.Sprintf("%s: %s (%s, %d/%d lookups)", ev.IP, ev.Result, ev.Domain, ev.Lookups, spf.MaxLookups)
		switch ev.Result {
		case spf.Pass:
		case spf.TempError:
			unknown = append(unknown, line)
		default:
			bad = append(bad, line)
		}
	}
	switch {
	case len(bad) > 0:
		return fact{status: report.ReqFail, summary: "SPF does not pass for every sending IP: " + strings.Join(bad, "; "),
			findings: []string{"spf.result-fail", "spf.result-softfail", "spf.result-permerror"}}
	case len(unknown) > 0:
		return fact{status: report.ReqUnknown, summary: "SPF could not be evaluated: " + strings.Join(unknown, "; "), findings: []string{"spf.result-temperror"}}
	}
	f.summary = fmt.Sprintf("SPF passes for every sending IP as %s (%d/%d DNS lookups)", res.SPFDomain, maxLookups(res.SPF), spf.MaxLookups)
	return f
}

func maxLookups(c *spf.Check) int {
	n := 0
	for _, ev := range c.Evaluations {
		n = max(n, ev.Lookups)
	}
	return n
}

func dkimFact(res *Result) fact {
	if res.DKIM != nil {
		return signatureFact(res.DKIM)
	}
	if !res.SelectorsGiven {
		return fact{status: report.ReqManual, needs: needsMessageSelector,
			summary: "not checked: give --message (a message saved from the platform) or --selector"}
	}
	return keyFact(res.Keys)
}

// signatureFact: a valid signature (go-msgauth refuses RSA keys under 1024
// bits, RFC 8301 §3.2, so a valid one has a long enough key).
func signatureFact(v *dkim.Verification) fact {
	if v.Err != "" { // the verification could not run: nothing was observed about the signatures
		return fact{status: report.ReqUnknown, summary: "the message's DKIM signatures could not be verified: " + v.Err,
			findings: []string{"dkim.message-unreadable"}}
	}
	if p := v.Passing(); len(p) > 0 {
		return fact{status: report.ReqPass, summary: "the message has a valid DKIM signature: " + p[0].Describe(),
			findings: []string{"dkim.signature-pass"}}
	}
	for _, s := range v.Signatures {
		if s.Result == dkim.SigTempError {
			return fact{status: report.ReqUnknown, summary: "the DKIM key could not be looked up: " + s.Reason,
				findings: []string{"dkim.signature-temperror"}}
		}
	}
	if len(v.Signatures) == 0 {
		return fact{status: report.ReqFail, summary: "the message is not DKIM-signed", findings: []string{"dkim.unsigned"}}
	}
	s := v.Signatures[0]
	return fact{status: report.ReqFail, summary: fmt.Sprintf("no DKIM signature verifies: %s is %s (%s)", s.Describe(), s.Result, s.Reason),
		findings: []string{"dkim.signature-fail", "dkim.signature-permerror"}}
}

// keyFact: every selector given has a usable key of at least 1024 bits.
func keyFact(keys []*dkim.Result) fact {
	var bad, unknown, good []string
	for _, k := range keys {
		for _, s := range k.Selectors {
			switch {
			case s.Answer.Failed():
				unknown = append(unknown, s.Selector+": "+s.Status)
			case s.Key == nil || s.KeyErr != "" || s.Key.Revoked || s.Key.KeyErr != "":
				bad = append(bad, s.Selector+": no usable key")
			case s.Key.KeyType == "rsa" && s.Key.Bits < 1024:
				bad = append(bad, fmt.Sprintf("%s: a %d-bit RSA key (1024 at least, 2048 recommended)", s.Selector, s.Key.Bits))
			default:
				good = append(good, fmt.Sprintf("%s (%s %d bits)", s.Selector, s.Key.KeyType, s.Key.Bits))
			}
		}
	}
	switch {
	case len(bad) > 0:
		return fact{status: report.ReqFail, summary: "DKIM key: " + strings.Join(bad, "; "),
			findings: []string{"dkim.selector-missing", "dkim.rsa-too-short", "dkim.revoked", "dkim.bad-key"}}
	case len(unknown) > 0:
		return fact{status: report.ReqUnknown, summary: "the DKIM key could not be looked up: " + strings.Join(unknown, "; "), findings: []string{"dkim.lookup-failed"}}
	}
	return fact{status: report.ReqPass, summary: "a valid DKIM key for every selector: " + strings.Join(good, ", ") +
		" (whether the platform signs with it shows only in a message: give --message)", findings: []string{"dkim.key"}}
}

func dmarcFact(res *Result) fact {
	d := res.DMARC
	switch {
	case d.Record != nil && !d.Record.PolicyBroken():
		return fact{status: report.ReqPass, findings: []string{"dmarc.record", "dmarc.policy"},
			summary: fmt.Sprintf("DMARC p=%s at _dmarc.%s", d.Record.EffectivePolicy(), d.PolicyDomain)}
	case d.Unknown():
		return fact{status: report.ReqUnknown, summary: "the DMARC record could not be looked up", findings: []string{"dmarc.lookup-failed"}}
	case d.Record != nil:
		return fact{status: report.ReqFail, summary: "the DMARC record at _dmarc." + d.PolicyDomain + " specifies no valid policy (p=)",
			findings: []string{"dmarc.policy-invalid"}}
	}
	return fact{status: report.ReqFail, summary: "no DMARC record for " + d.Domain + " (p=none is enough for the bulk rules)",
		findings: []string{"dmarc.missing"}}
}

// alignmentFact: DMARC would pass — SPF passes and aligns for every IP, or
// a valid DKIM signature aligns (RFC 9989, RFC 7489 §3.1). An alignment
// that holds only under relaxed alignment, while the DMARC record (and so
// aspf/adkim) could not be read, is unknown.
func alignmentFact(res *Result) fact {
	for _, a := range res.Alignment.DKIM {
		if a.holds() {
			return fact{status: report.ReqPass, findings: []string{"alignment.dkim"},
				summary: fmt.Sprintf("From %s aligns with the valid DKIM signature's d=%s", a.FromDomain, a.MailFromDomain)}
		}
	}
	spfAll, spfRelaxed, spfUnknown := len(res.Alignment.SPF) > 0, len(res.Alignment.SPF) > 0, false
	for _, a := range res.Alignment.SPF {
		spfAll = spfAll && a.holds()
		spfRelaxed = spfRelaxed && a.Pass
		spfUnknown = spfUnknown || a.SPFResult == string(spf.TempError)
	}
	if spfAll {
		a := res.Alignment.SPF[0]
		return fact{status: report.ReqPass, findings: []string{"alignment.spf"},
			summary: fmt.Sprintf("From %s aligns with the SPF-authenticated %s for every sending IP", a.FromDomain, a.MailFromDomain)}
	}
	if relaxed := relaxedOnly(res.Alignment, spfRelaxed); relaxed != "" {
		return fact{status: report.ReqUnknown, findings: []string{"alignment.spf", "alignment.dkim", "dmarc.lookup-failed"},
			summary: "From " + res.From.Domain + " aligns with " + relaxed + " under relaxed alignment only, and the DMARC record could not be " +
				"looked up: whether its aspf/adkim ask for strict alignment is not known"}
	}
	dkimUnknown := res.DKIM != nil && dkimFact(res).status == report.ReqUnknown
	switch {
	case spfUnknown || dkimUnknown || res.DMARC.Unknown():
		return fact{status: report.ReqUnknown, summary: "alignment could not be judged: an SPF, DKIM or DMARC lookup failed"}
	case res.DKIM == nil:
		return fact{status: report.ReqManual, findings: []string{"alignment.spf"}, needs: needsMessage,
			summary: "SPF does not align with From " + res.From.Domain + "; whether DKIM does depends on the d= of the platform's signatures: give --message"}
	}
	return fact{status: report.ReqFail, findings: []string{"alignment.spf", "alignment.dkim"},
		summary: "From " + res.From.Domain + " aligns with neither an SPF pass nor a valid DKIM signature: DMARC fails"}
}

// relaxedOnly names what aligns under relaxed alignment only: a valid DKIM
// signature's d=, or the SPF domain when spfRelaxed (every IP aligns
// relaxed); "" when nothing does.
func relaxedOnly(a Alignment, spfRelaxed bool) string {
	for _, x := range a.DKIM {
		if x.Pass && x.RelaxedOnly {
			return "the valid DKIM signature's d=" + x.MailFromDomain
		}
	}
	if spfRelaxed {
		return "the SPF-authenticated " + a.SPF[0].MailFromDomain
	}
	return ""
}

// ptrFact judges the reverse DNS of the sending IPs that want says.
func ptrFact(res *Result, want func(netip.Addr) bool) fact {
	var bad, unknown []string
	first, judged := "", 0
	for _, ip := range res.IPs {
		if !want(ip.IP) {
			continue
		}
		judged++
		st, why := ptrStatus(ip)
		if st != report.ReqPass && first == "" {
			first = ip.IP.String()
		}
		switch st {
		case report.ReqFail:
			bad = append(bad, ip.IP.String()+": "+why)
		case report.ReqUnknown:
			unknown = append(unknown, ip.IP.String()+": "+why)
		}
	}
	switch {
	case len(bad) > 0:
		return fact{status: report.ReqFail, summary: strings.Join(bad, "; "), ip: first,
			findings: []string{"ptr.missing", "ptr.not-confirmed", "ptr.invalid-name"}}
	case len(unknown) > 0:
		return fact{status: report.ReqUnknown, summary: strings.Join(unknown, "; "), ip: first, findings: []string{"ptr.lookup-failed"}}
	case judged == 0:
		return fact{status: report.ReqPass, summary: "no IPv6 sending IP"}
	}
	return fact{status: report.ReqPass, summary: "every sending IP has forward-confirmed reverse DNS", findings: []string{"ptr.ok", "ptr.generic"}}
}

// ptrStatus judges one IP as the providers' rules ask: a PTR whose name
// resolves back to the IP (bulk-sender-requirements.md: Gmail "the sending
// IP has a PTR name, and that name resolves back", Yahoo "valid forward and
// reverse DNS"). A generic access-line name is in none of those rules: it
// stays evidence (ptr.generic, a warning), never a failed row.
func ptrStatus(ip IPResult) (report.RequirementStatus, string) {
	p := ip.PTR
	switch {
	case p.Answer.Failed():
		return report.ReqUnknown, "the PTR lookup failed (" + p.Status + ")"
	case len(p.Names) == 0:
		return report.ReqFail, "no PTR record"
	}
	name := p.ConfirmedName()
	if name == "" {
		for _, n := range p.Names {
			if n.ForwardAnswer.Failed() {
				return report.ReqUnknown, "could not check that " + n.Name + " resolves back"
			}
		}
		return report.ReqFail, "the PTR name " + p.Names[0].Name + " does not resolve back to the IP"
	}
	return report.ReqPass, ""
}

func oneClickFact(res *Result) fact {
	if res.Message == nil {
		return fact{status: report.ReqManual, needs: needsMessage, summary: "not checked: give --message (a message saved from the platform)"}
	}
	fd := res.Message.OneClickFinding(res.DKIM)
	st := report.ReqFail
	switch fd.Severity {
	case report.OK:
		st = report.ReqPass
	case report.Unknown:
		st = report.ReqUnknown
	}
	return fact{status: st, summary: fd.Summary, findings: []string{fd.ID}}
}

// formatFact: RFC 5322 §3.6 form, no provider's own domain in From, and
// the From the sender meant (--from).
func formatFact(res *Result) fact {
	m := res.Message
	if m == nil {
		return fact{status: report.ReqManual, needs: needsMessage, summary: "not checked: give --message (a message saved from the platform)"}
	}
	var ps, ids []string
	var variants []string // the first problem's cause selects the reply
	for _, p := range m.Form {
		ps = append(ps, p.Detail)
		ids = append(ids, "message.field-"+p.Kind)
		if variants == nil {
			variants = []string{p.Field + "-" + p.Kind, p.Kind}
		}
	}
	if m.Impersonates != "" {
		ps = append(ps, "From uses "+m.FromDomain+", a mailbox provider's own domain")
		ids = append(ids, "message.from-provider-domain")
		if variants == nil {
			variants = []string{"impersonation"}
		}
	}
	if res.GivenFrom != "" {
		ps = append(ps, fromMismatch(res))
		ids = append(ids, "message.from-mismatch")
		if variants == nil {
			variants = []string{"from-mismatch"}
		}
	}
	if len(ps) > 0 {
		return fact{status: report.ReqFail, summary: strings.Join(ps, "; "), variants: variants, findings: ids}
	}
	return fact{status: report.ReqPass, summary: "RFC 5322 form: one From, a Date, a valid Message-ID, no duplicated fields", findings: []string{"message.form-ok"}}
}

// fromMismatch says that the message's From is not the --from given.
func fromMismatch(res *Result) string {
	return "the message's From " + res.From.String() + " is not in the domain of --from " + res.GivenFrom +
		": receivers judge the message's From, so DMARC, alignment and impersonation are judged for " + res.From.Domain
}

// blocklistFact judges every listing of the lists mxray queried: the
// evidence behind the rows of providers that judge reputation themselves.
func blocklistFact(res *Result) fact {
	b := res.Blocklists
	listed, unknown := listings(b.Results, func(dnsbl.Result) bool { return true })
	switch {
	case len(listed) > 0:
		return fact{status: report.ReqFail, summary: "listed: " + strings.Join(listed, ", "), findings: []string{"dnsbl.listed"}}
	case len(unknown) > 0 || len(b.BadTargets) > 0:
		return fact{status: report.ReqUnknown, summary: fmt.Sprintf("%d blocklist answers could not be had (%s)", len(unknown)+len(b.BadTargets), clipList(append(unknown, b.BadTargets...))),
			findings: []string{"dnsbl.unknown", "dnsbl.refused", "dnsbl.list-unhealthy", "dnsbl.bad-target"}}
	}
	return fact{status: report.ReqPass, findings: []string{"dnsbl.not-listed"},
		summary: fmt.Sprintf("not listed: %d targets on %d lists", len(b.Targets), len(b.Lists))}
}

// spamhausFact judges what Yahoo documents: it refuses connections from
// IPs that Spamhaus lists ([BL21]–[BL23], "the ip is in Spamhaus's list").
// Only the Spamhaus lists' answers for the sending IPs decide; other
// listings stay evidence.
func spamhausFact(res *Result) fact {
	b := res.Blocklists
	queried := false
	for _, z := range b.Lists {
		queried = queried || spamhausZone(z)
	}
	if !queried {
		return fact{status: report.ReqUnknown, findings: []string{"dnsbl.not-listed", "dnsbl.listed"},
			summary: "Yahoo refuses IPs that Spamhaus lists, and no Spamhaus list was queried (" + strings.Join(b.Lists, ", ") +
				"): add --list zen.spamhaus.org (with --dqs-key on a public resolver)"}
	}
	ofYahoo := func(r dnsbl.Result) bool { return spamhausZone(r.Zone) && isIP(r.Target) }
	listed, unknown := listings(b.Results, ofYahoo)
	others, _ := listings(b.Results, func(r dnsbl.Result) bool { return !ofYahoo(r) })
	aside := ""
	if len(others) > 0 {
		aside = fmt.Sprintf("; %d other listings are evidence only (%s)", len(others), clipList(others))
	}
	judged := 0
	for _, r := range b.Results {
		if ofYahoo(r) {
			judged++
		}
	}
	switch {
	case len(listed) > 0:
		return fact{status: report.ReqFail, summary: "listed by Spamhaus: " + strings.Join(listed, ", ") + aside,
			findings: []string{"dnsbl.listed"}, ip: strings.Fields(listed[0])[0]}
	case len(unknown) > 0:
		return fact{status: report.ReqUnknown, summary: fmt.Sprintf("%d Spamhaus answers could not be had (%s)", len(unknown), clipList(unknown)) + aside,
			findings: []string{"dnsbl.unknown", "dnsbl.refused", "dnsbl.list-unhealthy"}}
	case judged == 0:
		return fact{status: report.ReqUnknown, summary: "no public sending IP was looked up on Spamhaus" + aside}
	}
	return fact{status: report.ReqPass, findings: []string{"dnsbl.not-listed", "dnsbl.listed"},
		summary: fmt.Sprintf("no sending IP is listed by Spamhaus (%d answers)", judged) + aside}
}

// listings are the listed and the unknown answers that keep says count.
func listings(rs []dnsbl.Result, keep func(dnsbl.Result) bool) (listed, unknown []string) {
	for _, r := range rs {
		if !keep(r) {
			continue
		}
		switch r.Status {
		case dnsbl.Listed:
			listed = append(listed, r.Target+" on "+r.List)
		case dnsbl.Unknown:
			unknown = append(unknown, r.Target+" on "+r.List)
		}
	}
	return listed, unknown
}

// spamhausZone reports whether the zone is one of Spamhaus's lists (the
// catalog's operator, through its aliases and DQS zones).
func spamhausZone(zone string) bool {
	l, ok := dnsbl.ByZone(zone)
	return ok && l.Operator == "Spamhaus"
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// yahooUnsubscribeFact judges what Yahoo asks of bulk senders: "a working
// List-Unsubscribe header with one-click support", for which the RFC 8058
// POST is "highly recommended" and a mailto: URI "acceptable"
// (bulk-sender-requirements.md). So RFC 8058 one-click passes, and so does
// one List-Unsubscribe field with a mailto: URI, with the recommendation
// said.
func yahooUnsubscribeFact(res *Result, rfc8058 fact) fact {
	if res.Message == nil || rfc8058.status == report.ReqPass {
		return rfc8058
	}
	u := res.Message.Unsubscribe
	var mailto []string
	for _, uri := range u.URIs {
		if strings.HasPrefix(strings.ToLower(uri), "mailto:") {
			mailto = append(mailto, uri)
		}
	}
	if u.Fields == 1 && len(mailto) > 0 {
		return fact{status: report.ReqPass, findings: rfc8058.findings,
			summary: "List-Unsubscribe offers " + mailto[0] + ", which Yahoo accepts; its \"highly recommended\" RFC 8058 one-click POST is not in place: " + rfc8058.summary}
	}
	return rfc8058
}

func clipList(ss []string) string {
	if len(ss) > 3 {
		return strings.Join(ss[:3], ", ") + fmt.Sprintf(" and %d more", len(ss)-3)
	}
	return strings.Join(ss, ", ")
}
