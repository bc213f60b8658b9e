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
//     one-click unsubscribe. A Spamhaus listing is a documented permanent
//     error.
//   - Microsoft, more than 5,000 a day to its consumer addresses: SPF, DKIM,
//     DMARC p=none at least, aligned with SPF or DKIM. Reverse DNS is
//     documented for IPv6 senders; valid From, unsubscribe links and list
//     hygiene are recommended, not required; no spam-rate threshold.

import (
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

// applicability returns whether the requirement applies, the note, and a
// reply variant when the applying rule has its own documented reply.
func applicability(p provider.ID, id string, res *Result, f facts) (bool, string, string) {
	switch p {
	case provider.Gmail:
		return gmailApplies(id, res.Volume, f)
	case provider.Yahoo:
		return yahooApplies(id)
	case provider.Microsoft:
		return microsoftApplies(id, res)
	}
	return false, "", ""
}

func gmailApplies(id string, volume int, f facts) (bool, string, string) {
	bulk := volume < 0 || volume >= GmailBulk
	bulkNote := "bulk senders: 5,000 or more messages a day to personal Gmail accounts"
	if volume < 0 {
		bulkNote += " (no --volume given: assumed)"
	}
	switch id {
	case "spf", "dkim":
		if bulk {
			return true, bulkNote + ": SPF and DKIM", ""
		}
		other := map[string]string{"spf": "dkim", "dkim": "spf"}[id]
		if f[other].status == report.ReqPass {
			return false, "below 5,000 a day Gmail asks for SPF or DKIM, and " + other + " passes", "either"
		}
		return true, "all senders: SPF or DKIM, and neither passes", "either"
	case "dmarc", "alignment", "one-click-unsubscribe":
		if bulk {
			return true, bulkNote, ""
		}
		return false, "required of bulk senders only (5,000 or more a day)", ""
	case "ptr", "message-format", "tls", "spam-rate":
		return true, "all senders", ""
	}
	return false, "not in Gmail's published rules: Gmail judges the IP's reputation itself (its low-reputation rejection is shown)", ""
}

func yahooApplies(id string) (bool, string, string) {
	switch id {
	case "spf", "dkim", "dmarc", "alignment", "one-click-unsubscribe":
		return true, "bulk senders (Yahoo names no volume, so these apply)", ""
	case "ptr", "message-format", "spam-rate":
		return true, "all senders", ""
	case "blocklists":
		return true, "all senders: Yahoo refuses IPs listed by Spamhaus (553/554)", ""
	}
	return false, "not in Yahoo's published requirements", ""
}

func microsoftApplies(id string, res *Result) (bool, string, string) {
	bulk := res.Volume < 0 || res.Volume > MicrosoftBulk
	switch id {
	case "spf", "dkim", "dmarc", "alignment":
		if !bulk {
			return false, "required above 5,000 messages a day to Outlook.com, Hotmail and Live", ""
		}
		note := "more than 5,000 messages a day to Outlook.com, Hotmail and Live"
		if res.Volume < 0 {
			note += " (no --volume given: assumed)"
		}
		return true, note, ""
	case "ptr":
		for _, ip := range res.IPs {
			if ip.IP.Is6() {
				return true, "IPv6 senders must have reverse DNS", ""
			}
		}
		return false, "documented for IPv6 senders only", ""
	case "one-click-unsubscribe", "message-format":
		return false, "recommended by Microsoft, not required", ""
	case "spam-rate":
		return false, "Microsoft publishes no spam-rate threshold", ""
	case "blocklists":
		return false, "Microsoft keeps its own block list (S3150), not the DNS lists mxray queries", ""
	}
	return false, "not in Microsoft's published requirements", ""
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
