package preflight

// The rejections each provider documents for a requirement, as the
// provider's page words them (the first sentences of the reply; the pages
// add a link after). Each is explained by the reply catalog exactly as
// `mxray explain` would explain it.
//
// Sources:
//   - Gmail: "Gmail SMTP errors and codes", support.google.com/a/answer/3726730
//     (the 5.7.x permanent forms; 4.7.x are the temporary ones).
//   - Microsoft: the Outlook.com high-volume sender requirements (Tech
//     Community, April 2025) and "Fix NDR error 550 5.7.515"; the Outlook.com
//     block list reply (S3150) and the IPv6 reverse DNS reply as the catalog
//     records them.
//   - Yahoo: senders.yahooinc.com "SMTP Error Codes": Yahoo names the classes
//     (553/554 for authentication and DMARC failures, TS* deferrals for
//     complaints, a Spamhaus listing) and gives example replies, which the
//     catalog records.

import (
	"strings"

	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/catalog"
)

const (
	srcGmailErrors  = "https://support.google.com/a/answer/3726730"
	srcGmailGuide   = "https://support.google.com/a/answer/81126"
	srcGmailFAQ     = "https://support.google.com/a/answer/14229414"
	srcYahooErrors  = "https://senders.yahooinc.com/smtp-error-codes/"
	srcYahooGuide   = "https://senders.yahooinc.com/best-practices/"
	srcMicrosoft    = "https://techcommunity.microsoft.com/blog/microsoftdefenderforoffice365blog/strengthening-email-ecosystem-outlooks-new-requirements-for-high-volume-senders/4399730"
	srcMicrosoft515 = "https://support.microsoft.com/en-us/outlook/fix-ndr-error-550-5-7-515-in-outlook-com"
	srcRFC8058      = "RFC 8058 §3.1"
)

type replyKey struct {
	provider provider.ID
	id       string
	variant  string // "" or a finer cause (the message-format problem, ...)
}

// documented holds each provider's reply per requirement (and variant).
var documented = map[replyKey]report.Reply{
	{provider.Gmail, "spf", ""}: {Code: 550, Enhanced: "5.7.27", Source: srcGmailErrors,
		Text: "This message was blocked because it didn't pass SPF authentication. Gmail requires bulk email senders to authenticate their email with SPF."},
	{provider.Gmail, "spf", "either"}: {Code: 550, Enhanced: "5.7.26", Source: srcGmailErrors,
		Text: "This email has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM."},
	{provider.Gmail, "dkim", ""}: {Code: 550, Enhanced: "5.7.30", Source: srcGmailErrors,
		Text: "This message was blocked because it didn't pass DKIM authentication. Gmail requires bulk email senders to authenticate their email with DKIM."},
	{provider.Gmail, "dkim", "either"}: {Code: 550, Enhanced: "5.7.26", Source: srcGmailErrors,
		Text: "This email has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM."},
	{provider.Gmail, "dmarc", ""}: {Code: 550, Enhanced: "5.7.40", Source: srcGmailErrors,
		Text: "Your message was blocked because the sending domain doesn't have a DMARC record or the DMARC record doesn't specify a DMARC policy. Gmail requires all bulk email senders to add a DMARC record to their sending domain."},
	{provider.Gmail, "alignment", ""}: {Code: 550, Enhanced: "5.7.32", Source: srcGmailErrors,
		Text: "Your email was blocked because the From: header (RFC5322) in this message isn't aligned with either the authenticated SPF or DKIM organizational domain."},
	{provider.Gmail, "ptr", ""}: {Code: 550, Enhanced: "5.7.25", Source: srcGmailErrors,
		Text: "This message was blocked because the sending IP address doesn't have a PTR record, or the forwarding DNS entry doesn't reference the sending IP address. Gmail requires that sending IP addresses have a PTR record."},
	{provider.Gmail, "tls", ""}: {Code: 550, Enhanced: "5.7.29", Source: srcGmailErrors,
		Text: "This message was blocked because it wasn't sent over a TLS connection. Gmail requires all bulk email senders to use TLS/SSL for SMTP connections."},
	{provider.Gmail, "spam-rate", ""}: {Code: 550, Enhanced: "5.7.28", Source: srcGmailErrors,
		Text: "There is an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked."},
	{provider.Gmail, "blocklists", ""}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "This message is likely suspicious due to the very low reputation of the sending IP address. To best protect our users from spam, the message has been blocked."},
	{provider.Gmail, "message-format", "duplicate"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "This message is not RFC 5322 compliant because it has duplicate headers. To reduce the amount of spam sent to Gmail, this message has been blocked."},
	{provider.Gmail, "message-format", "From-missing"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "This message is not RFC 5322 compliant because the From: header is missing. To reduce the amount of spam sent to Gmail, this message has been blocked."},
	{provider.Gmail, "message-format", "From-duplicate"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "This message is not RFC 5322 compliant because it has multiple From: headers. To reduce the amount of spam sent to Gmail, this message has been blocked."},
	{provider.Gmail, "message-format", "From-multiple-addresses"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "Messages with multiple addresses in From: header are not accepted."},
	{provider.Gmail, "message-format", "From-invalid"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "Messages missing a valid address in From: header, or having no From: header, are not accepted."},
	{provider.Gmail, "message-format", "Message-ID-missing"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "Messages missing a valid Message-ID: header are not accepted."},
	{provider.Gmail, "message-format", "Message-ID-invalid"}: {Code: 550, Enhanced: "5.7.1", Source: srcGmailErrors,
		Text: "Messages missing a valid Message-ID: header are not accepted."},

	{provider.Yahoo, "spf", ""}: {Code: 550, Enhanced: "5.7.9", Source: srcYahooErrors,
		Text: "This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM."},
	{provider.Yahoo, "dkim", ""}: {Code: 550, Enhanced: "5.7.9", Source: srcYahooErrors,
		Text: "This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM."},
	{provider.Yahoo, "dmarc", ""}: {Code: 554, Enhanced: "5.7.9", Source: srcYahooErrors,
		Text: "Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes"},
	{provider.Yahoo, "alignment", ""}: {Code: 554, Enhanced: "5.7.9", Source: srcYahooErrors,
		Text: "Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes"},
	{provider.Yahoo, "blocklists", ""}: {Code: 553, Enhanced: "5.7.1", Source: srcYahooErrors,
		Text: "[BL21] Connections will not be accepted from {ip}, because the ip is in Spamhaus's list"},
	{provider.Yahoo, "spam-rate", ""}: {Code: 421, Enhanced: "4.7.0", Source: srcYahooErrors,
		Text: "[TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"},

	{provider.Microsoft, "spf", ""}: {Code: 550, Enhanced: "5.7.515", Source: srcMicrosoft515,
		Text: "Access denied, sending domain [{domain}] does not meet the required authentication level."},
	{provider.Microsoft, "dkim", ""}: {Code: 550, Enhanced: "5.7.515", Source: srcMicrosoft515,
		Text: "Access denied, sending domain [{domain}] does not meet the required authentication level."},
	{provider.Microsoft, "dmarc", ""}: {Code: 550, Enhanced: "5.7.515", Source: srcMicrosoft515,
		Text: "Access denied, sending domain [{domain}] does not meet the required authentication level."},
	{provider.Microsoft, "alignment", ""}: {Code: 550, Enhanced: "5.7.515", Source: srcMicrosoft515,
		Text: "Access denied, sending domain [{domain}] does not meet the required authentication level."},
	{provider.Microsoft, "ptr", ""}: {Code: 550, Enhanced: "5.7.25", Source: srcMicrosoft,
		Text: "Access denied, the sending IPv6 address [{ip}] must have a reverse DNS record"},
	{provider.Microsoft, "blocklists", ""}: {Code: 550, Enhanced: "5.7.1", Source: srcMicrosoft,
		Text: "Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."},
}

// replyFor is the documented reply of a provider for a requirement, with
// {domain} and {ip} filled in and the catalog's explanation; nil when the
// provider documents none for this cause. variants name the finer cause,
// most specific first ("Date-missing", "missing"): when there are some,
// only a reply documented for one of them fits — the requirement's
// general reply is about another cause (a missing Date is not "duplicate
// headers").
func replyFor(p provider.ID, id string, variants []string, domain, ip string) *report.Reply {
	r, ok := documentedReply(p, id, variants)
	if !ok {
		return nil
	}
	r.Text = strings.NewReplacer("{domain}", domain, "{ip}", ip).Replace(r.Text)
	ex := catalog.Explain(catalog.StageDATA, r.Code, r.Enhanced, r.Text)
	r.Explained = &report.ReplyExplanation{Entry: ex.Entry, Cause: ex.Cause, Reason: ex.Reason,
		ActionBy: string(ex.ActionBy), Summary: ex.Summary, Fix: ex.Fix}
	return &r
}

func documentedReply(p provider.ID, id string, variants []string) (report.Reply, bool) {
	if len(variants) == 0 {
		r, ok := documented[replyKey{p, id, ""}]
		return r, ok
	}
	for _, v := range variants {
		if r, ok := documented[replyKey{p, id, v}]; ok {
			return r, true
		}
	}
	return report.Reply{}, false
}
