package preflight

// Whether a provider's published rules require a requirement of this
// sender, with the note that says why (bulk-sender-requirements.md):
//
//   - Gmail, all senders: SPF or DKIM, forward-confirmed reverse DNS, TLS,
//     RFC 5322 form (no impersonation of gmail.com), spam rate below 0.3%.
//     5,000 or more a day: SPF and DKIM (keys of 1024 bits at least), a
//     DMARC record (p=none is enough), From aligned with SPF or DKIM,
//     one-click unsubscribe.
//   - Yahoo, all senders: SPF or DKIM, valid forward and reverse DNS, RFC
//     5321/5322 compliance, spam rate below 0.3%. Bulk senders (no number
//     given: assumed): SPF and DKIM, DMARC p=none at least and passing,
//     a working List-Unsubscribe with one-click support (the RFC 8058 POST
//     "highly recommended", mailto: "acceptable"). A Spamhaus listing of a
//     sending IP is a documented permanent error (553 5.7.1 [BL21]); other
//     lists are evidence only.
//   - Microsoft, more than 5,000 a day to its consumer addresses: SPF, DKIM,
//     DMARC p=none at least, aligned with SPF or DKIM. Reverse DNS is
//     documented for IPv6 senders; valid From, unsubscribe links and list
//     hygiene are recommended, not required; no spam-rate threshold.

import (
	"net/netip"

	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

// rule is how a provider's published rules treat a requirement for this
// sender: whether it applies, the note that says why, a reply variant when
// the applying rule has its own documented reply, and the provider's own
// judgement when it differs from the shared fact.
type rule struct {
	applies bool
	note    string
	variant string
	fact    *fact
}

// applicability returns the provider's rule for the requirement.
func applicability(p provider.ID, id string, res *Result, f facts) rule {
	switch p {
	case provider.Gmail:
		return gmailApplies(id, res.Volume, f)
	case provider.Yahoo:
		return yahooApplies(id, res, f)
	case provider.Microsoft:
		return microsoftApplies(id, res)
	}
	return rule{}
}

func gmailApplies(id string, volume int, f facts) rule {
	bulk := volume < 0 || volume >= GmailBulk
	bulkNote := "bulk senders: 5,000 or more messages a day to personal Gmail accounts"
	if volume < 0 {
		bulkNote += " (no --volume given: assumed)"
	}
	switch id {
	case "spf", "dkim":
		if bulk {
			return rule{applies: true, note: bulkNote + ": SPF and DKIM"}
		}
		return gmailEither(id, f)
	case "dmarc", "alignment", "one-click-unsubscribe":
		if bulk {
			return rule{applies: true, note: bulkNote}
		}
		return rule{note: "required of bulk senders only (5,000 or more a day)"}
	case "ptr", "message-format", "tls", "spam-rate":
		return rule{applies: true, note: "all senders"}
	}
	return rule{note: "not in Gmail's published rules: Gmail judges the IP's reputation itself (its low-reputation rejection is shown)"}
}

// gmailEither judges the spf or dkim row under Gmail's rule for all
// senders, "SPF or DKIM": one passing is enough, both failing fail, and
// one failing while the other was not checked (manual) or could not be
// (unknown) leaves the rule unknown — never a fail mxray did not observe.
func gmailEither(id string, f facts) rule {
	other := map[string]string{"spf": "dkim", "dkim": "spf"}[id]
	own, alt := f[id], f[other]
	const all = "all senders: SPF or DKIM"
	switch {
	case own.status == report.ReqPass:
		return rule{applies: true, note: all + ", and " + id + " passes", variant: "either"}
	case alt.status == report.ReqPass:
		return rule{note: "below 5,000 a day Gmail asks for SPF or DKIM, and " + other + " passes", variant: "either"}
	case own.status == report.ReqFail && alt.status == report.ReqFail:
		return rule{applies: true, note: all + ", and neither passes", variant: "either"}
	case own.status == report.ReqFail:
		x := own
		x.status = report.ReqUnknown
		x.summary += "; Gmail takes SPF or DKIM from senders below 5,000 a day, and " + other + " " + notJudged(alt.status) +
			", so whether Gmail refuses the mail is not known"
		return rule{applies: true, note: all + ": " + id + " fails and " + other + " " + notJudged(alt.status), variant: "either", fact: &x}
	}
	return rule{applies: true, note: all + ": " + id + " " + notJudged(own.status) + ", " + other + " " + string(alt.status), variant: "either"}
}

// notJudged says why a row has no pass or fail.
func notJudged(st report.RequirementStatus) string {
	if st == report.ReqManual {
		return "was not checked"
	}
	return "could not be checked"
}

func yahooApplies(id string, res *Result, f facts) rule {
	switch id {
	case "spf", "dkim", "dmarc", "alignment":
		return rule{applies: true, note: "bulk senders (Yahoo names no volume, so these apply)"}
	case "one-click-unsubscribe":
		x := yahooUnsubscribeFact(res, f[id])
		return rule{applies: true, fact: &x,
			note: "bulk senders (Yahoo names no volume, so this applies): a working List-Unsubscribe; RFC 8058 one-click POST highly recommended, mailto: acceptable"}
	case "ptr", "message-format", "spam-rate":
		return rule{applies: true, note: "all senders"}
	case "blocklists":
		x := spamhausFact(res)
		return rule{applies: true, fact: &x, note: "all senders: Yahoo refuses connections from IPs that Spamhaus lists (553 5.7.1 [BL21]–[BL23]); other lists are evidence only"}
	}
	return rule{note: "not in Yahoo's published requirements"}
}

func microsoftApplies(id string, res *Result) rule {
	bulk := res.Volume < 0 || res.Volume > MicrosoftBulk
	switch id {
	case "spf", "dkim", "dmarc", "alignment":
		if !bulk {
			return rule{note: "required above 5,000 messages a day to Outlook.com, Hotmail and Live"}
		}
		note := "more than 5,000 messages a day to Outlook.com, Hotmail and Live"
		if res.Volume < 0 {
			note += " (no --volume given: assumed)"
		}
		return rule{applies: true, note: note}
	case "ptr":
		x := ptrFact(res, netip.Addr.Is6) // Microsoft documents reverse DNS for IPv6 senders
		for _, ip := range res.IPs {
			if ip.IP.Is6() {
				return rule{applies: true, note: "IPv6 senders must have reverse DNS", fact: &x}
			}
		}
		return rule{note: "documented for IPv6 senders only", fact: &x}
	case "one-click-unsubscribe", "message-format":
		return rule{note: "recommended by Microsoft, not required"}
	case "spam-rate":
		return rule{note: "Microsoft publishes no spam-rate threshold"}
	case "blocklists":
		return rule{note: "Microsoft keeps its own block list (S3150), not the DNS lists mxray queries"}
	}
	return rule{note: "not in Microsoft's published requirements"}
}

// references cite the provider's pages for a row.
func references(p provider.ID, id string) []string {
	var refs []string
	switch p {
	case provider.Gmail:
		refs = []string{srcGmailGuide, srcGmailFAQ, srcGmailErrors}
	case provider.Yahoo:
		refs = []string{srcYahooGuide, srcYahooErrors}
	case provider.Microsoft:
		refs = []string{srcMicrosoft, srcMicrosoft515}
	}
	switch id {
	case "one-click-unsubscribe":
		refs = append(refs, srcRFC8058)
	case "message-format":
		refs = append(refs, "RFC 5322 §3.6")
	case "spf":
		refs = append(refs, "RFC 7208")
	case "dkim":
		refs = append(refs, "RFC 6376", "RFC 8301")
	case "dmarc", "alignment":
		refs = append(refs, "RFC 9989", "RFC 7489")
	case "ptr":
		refs = append(refs, "RFC 8601 §3 (iprev)")
	case "blocklists":
		refs = append(refs, "RFC 5782")
	}
	return refs
}
