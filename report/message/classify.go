package message

// Classification: one reply found for one recipient becomes one reason of
// the bounce taxonomy (testdata/bounces/reasons.csv, the published
// definitions of the sisimai reason classes). The decision is taken in a
// fixed order, the structured evidence first:
//
//  1. What the notice is (bounce.go, bounce_auto.go): a feedback report
//     (one answer per reported message or recipient), an auto-reply, or a
//     success — RFC 3464 §2.3.3 Action delivered/relayed/expanded, or a
//     2.X.X Status (RFC 3463 §3.1) — with no failure reply. A notice whose
//     Action is failed or delayed is never a success, whatever reply it
//     quotes (neverDelivered).
//  2. The reply's words, read by the catalog in its own order
//     (report/catalog): providers' and blocklist operators' documented
//     replies, then phrase families written from MTA documentation and
//     RFC 3463, then the meaning of the enhanced code, the basic code and
//     the reply class (RFC 3463 §3, RFC 5321 §4.2).
//  3. The stage the reply answered (RFC 5321 §3.3) and the status
//     (stageRules): a recipient the server says does not exist is
//     userunknown when the evidence places the refusal at RCPT TO — the
//     stage, an X.1.x address status (RFC 3463 §3.2), or the reporting MTA's
//     own words (no SMTP reply: it looked the address up itself) — and
//     filtered when it came after DATA or when a remote SMTP reply says so
//     with neither (the taxonomy: userunknown is "5.1.1, or refused at RCPT";
//     filtered is "rejected after DATA", "almost the same as userunknown").
//     A refusal at MAIL FROM concerns the sender (rejected), whatever the
//     words say about a "user" or a "domain".
//  4. When the sending MTA gave up or is still retrying (expiryRules): a
//     delay or expiry notice takes its reason from the last error it quotes
//     (the receiver's refusal, a DNS failure, a full disk); it is expired
//     when that error says only that the host could not be reached, or
//     nothing specific (RFC 3464 §2.3.3 Action delayed; X.4.7 "delivery time
//     expired", RFC 3463 §3.5; the taxonomy's expired: "delivery time
//     expired after repeated temporary failures / connection failures").
//  5. A named recipient with no reply, no status and no known words is
//     onhold ("insufficient information"), not undefined.
//
// Where this order disagrees with a label of the corpus, the label is
// listed in testdata/bounces/disputed.csv with the reason; no rule is
// bent to a sample.

import (
	"strings"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/catalog"
)

// Delivery is what the context of a reply says about its delivery: for
// whom, what the sending MTA did with the message, and where the reply was
// found.
type Delivery struct {
	Recipient string
	// Source: reply, text, dsn, bounce-body, exim, exchange-ndr,
	// postfix-log, exim-log, sendmail-log.
	Source string
	// Action is the DSN Action (RFC 3464 §2.3.3: failed, delayed,
	// delivered, relayed, expanded), or "expired" when the sending MTA says
	// it gave up after its retry time.
	Action    string
	Status    string // the DSN Status or a log's dsn= (RFC 3463 code)
	RemoteMTA string
}

// ExplainReply explains one reply found for a delivery: the catalog's
// reading of the reply, then the rules that follow from the delivery.
func ExplainReply(found FoundReply, d Delivery, opt ExplainOptions) ExplainedReply {
	er := ExplainedReply{Recipient: d.Recipient, Source: d.Source, Action: d.Action, Status: d.Status,
		RemoteMTA: d.RemoteMTA, Reply: found.Text}
	er.Explanation = explainOne(found, opt)
	classify(&er, found, opt)
	return er
}

// classify applies steps 1 and 3-5 to the catalog's reading (step 2).
func classify(er *ExplainedReply, found FoundReply, opt ExplainOptions) {
	if successNotice(er, found) {
		return
	}
	neverDelivered(er, found, opt)
	stageRules(er, found, opt)
	if expiryRules(er, found) {
		return
	}
	onholdRule(er, found)
}

// successNotice: the DSN reports a success (RFC 3464 §2.3.3, RFC 3463
// §3.1) and quotes no failure reply.
func successNotice(er *ExplainedReply, found FoundReply) bool {
	if found.Code >= 400 {
		return false
	}
	switch {
	case er.Action == "delivered" || er.Action == "relayed" || er.Action == "expanded":
		er.Reason, er.Cause = "delivered", "dsn."+er.Action
		er.Summary = "the message was " + er.Action + " (a success notification, not a bounce)"
	case strings.HasPrefix(er.Status, "2.") && !failedAction(er.Action):
		er.Reason, er.Cause = "delivered", "dsn.success"
		er.Summary = "the status is a success (" + er.Status + ")"
	default:
		return false
	}
	er.ActionBy, er.Permanent, er.Fix = catalog.ActionNobody, false, "nothing to fix"
	return true
}

func failedAction(a string) bool { return a == "failed" || a == "delayed" || a == "expired" }

// neverDelivered: a notice that says delivery failed (or is delayed) is not
// a success because the reply it quotes is one (a "250 OK" of an earlier
// hop): the status, or the words alone, decide; with neither it is on hold.
func neverDelivered(er *ExplainedReply, found FoundReply, opt ExplainOptions) {
	if er.Reason != "delivered" || !failedAction(er.Action) {
		return
	}
	status := er.Status
	if !strings.HasPrefix(status, "4.") && !strings.HasPrefix(status, "5.") {
		status = ""
	}
	er.Explanation = explainOne(FoundReply{Stage: found.Stage, Enhanced: status, Text: stripLeadingCodes(found.Text)}, opt)
	if er.Reason == "delivered" || er.Reason == "undefined" {
		er.Reason, er.Cause = "onhold", "notice.failure-without-cause"
		er.Summary = "the notice says delivery failed, but the only reply it quotes is a success"
		er.Fix = "look for the reason in the receiving side's logs; nothing in this notice says what to fix"
	}
}

// stripLeadingCodes drops a leading success code ("250 2.0.0 ") so the
// words are read alone.
func stripLeadingCodes(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 4 && s[0] == '2' && isDigitByte(s[1]) && isDigitByte(s[2]) && (s[3] == ' ' || s[3] == '-') {
		s = strings.TrimSpace(s[4:])
		if len(s) > 6 && s[0] == '2' && s[1] == '.' {
			if sp := strings.IndexByte(s, ' '); sp > 0 {
				s = s[sp+1:]
			}
		}
	}
	return s
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

// stageRules: where the refusal came decides between the reasons whose
// words are alike (step 3).
func stageRules(er *ExplainedReply, found FoundReply, opt ExplainOptions) {
	switch {
	case er.Stage == catalog.StageMAIL && senderSideReason(er.Reason):
		// "The connection has been rejected due to the argument of MAIL":
		// the address or domain that does not exist is the sender's.
		setReason(er, "rejected", "sender.refused",
			"the receiving server refused the envelope sender (MAIL FROM): "+er.Summary,
			"use a sender address in a domain that exists and accepts mail (bounces must be deliverable back to it)", catalog.ActionSenderAdmin)
	case er.Stage == catalog.StageRCPT && refusedAtRcptWithoutCause(er, found):
		// "Refused at the SMTP RCPT command" is the taxonomy's userunknown
		// when nothing else is said: the recipient was refused.
		setReason(er, "userunknown", "recipient.refused",
			"the receiving server refused the recipient at RCPT TO without giving another cause: the address is not accepted there ("+er.Summary+")",
			"check the recipient address; if it is right, ask the recipient's postmaster why it is refused", catalog.ActionSender)
	case er.Reason == "filtered" && er.Entry == "mta.recipient-filtered" && er.Stage == catalog.StageRCPT:
		// The words say the user is unknown; the status (X.2.x, X.7.x) made
		// the catalog read a filter — but a refusal at RCPT TO is not after
		// DATA: the recipient is unknown.
		setReason(er, "userunknown", "recipient.unknown",
			"the receiving server refused the recipient at RCPT TO as unknown ("+er.Summary+")",
			"check the recipient address for typos and correct it; remove it from your lists if it no longer exists", catalog.ActionSender)
	case er.Reason == "userunknown" && !providerReading(er) && refusedAfterData(er, found, opt):
		summary := "the recipient was refused after the message content was sent, not at RCPT TO: a recipient-side filter or rule rather than an unknown mailbox (" + er.Summary + ")"
		if er.Stage != catalog.StageDATA {
			summary = "the recipient was refused, and the notice does not place the refusal at RCPT TO (where unknown mailboxes are refused): the taxonomy reads it as a recipient-side filter or rule (" + er.Summary + ")"
		}
		setReason(er, "filtered", "data.recipient-refused", summary,
			"the recipient's system refuses this message for this recipient; ask the recipient to allow the sender, or reach them another way", catalog.ActionRecipientAdmin)
	}
}

// refusedAtRcptWithoutCause: a permanent refusal at RCPT TO whose words
// and codes say nothing the catalog recognises (a code fallback), and whose
// status is not about security or policy (X.7.x, RFC 3463 §3.8: then the
// refusal is not about the address).
func refusedAtRcptWithoutCause(er *ExplainedReply, found FoundReply) bool {
	if !er.Permanent || !(bncFallback(er.Explanation) || er.Reason == "undefined") {
		return false
	}
	return !strings.Contains(er.EnhancedCode, ".7.")
}

// senderSideReason: reasons whose words ("no such user", "domain not
// found", "account disabled") at MAIL FROM describe the sender.
func senderSideReason(r string) bool {
	switch r {
	case "userunknown", "hostunknown", "suspend", "filtered", "hasmoved":
		return true
	}
	return false
}

// refusedAfterData: a "no such user" that was not given at RCPT TO. At
// RCPT the server refuses unknown recipients; refusing one after the
// content is a filter or a rule. An X.1.x status (RFC 3463 §3.2, address
// status) places the refusal with the address whatever stage the notice
// names (PIPELINING, RFC 2920, reports RCPT refusals after DATA); so do
// the reporting MTA's own words (no reply code: it looked the address up
// itself).
func refusedAfterData(er *ExplainedReply, found FoundReply, opt ExplainOptions) bool {
	if addressStatus(er.EnhancedCode) || addressStatus(er.Status) {
		return false
	}
	switch er.Stage {
	case catalog.StageDATA:
		return true
	case catalog.StageRCPT, catalog.StageVRFY:
		return false
	}
	// The stage is unknown. A delivery report that quotes a remote reply
	// without saying it answered RCPT TO is read the taxonomy's way; a
	// reply pasted on its own says nothing of when it came, and "no such
	// user" then means what it says.
	if opt.loneReply {
		return false
	}
	return found.Code != 0
}

// addressStatus: X.1.x, address status (RFC 3463 §3.2): the address
// itself was refused.
func addressStatus(enh string) bool {
	return len(enh) > 4 && enh[1:4] == ".1."
}

// providerReading: the reply was read by a provider's or a blocklist
// operator's documented entry, whose meaning stands (step 2 before 3): a
// provider says which of its own replies means a missing account.
func providerReading(er *ExplainedReply) bool {
	c, err := catalog.Default()
	if err != nil {
		return false
	}
	e := c.Entry(er.Entry)
	return e != nil && e.Provider()
}

// setReason replaces the reason, keeping the evidence of the reading.
func setReason(er *ExplainedReply, reason, cause, summary, fix string, by catalog.ActionBy) {
	er.Reason, er.Cause, er.Summary, er.Fix, er.ActionBy = reason, cause, summary, fix, by
}

// expiryRules: the sending MTA gave up, or reports a delay (step 4).
func expiryRules(er *ExplainedReply, found FoundReply) bool {
	transient := (found.Code >= 400 && found.Code < 500) ||
		(found.Code == 0 && (strings.HasPrefix(er.Status, "4") || strings.HasPrefix(er.EnhancedCode, "4")))
	isLog := strings.HasSuffix(er.Source, "-log")
	gaveUp := er.Action == "failed" || er.Action == "expired" || (er.Action == "" && er.Source != "reply" && er.Source != "text" && !isLog)
	vague := bncFallback(er.Explanation) || er.Reason == "undefined" || er.Reason == "onhold" || er.Reason == "expired"
	expiring := er.Action == "expired" || bncEnhancedDetail(er.Status, "4.7") || bncEnhancedDetail(er.EnhancedCode, "4.7") ||
		(vague && bncExpiredRE.MatchString(er.Reply))
	switch {
	case expiring && (vague || couldNotConnect(er)):
		// Gave up, and the last error says only that the host could not
		// be reached, or nothing: expired. A specific cause quoted in the
		// notice (a refusal, a DNS failure, a full disk) stays the reason.
	case gaveUp && transient && couldNotConnect(er):
	case er.Action == "delayed" && vague && !isLog:
	default:
		return false
	}
	bncSetExpired(er)
	return true
}

// couldNotConnect: the error is a connection that could not be made
// (refused, timed out, unreachable), not a reply of the receiving server
// or a DNS failure.
func couldNotConnect(er *ExplainedReply) bool {
	return er.Reason == "networkerror" && bncConnectFailRE.MatchString(er.Reply)
}

// onholdRule: the bounce names the recipient as failed but gives no reply,
// no status and no words the catalog knows (step 5).
func onholdRule(er *ExplainedReply, found FoundReply) {
	transient := (found.Code >= 400 && found.Code < 500) || strings.HasPrefix(er.Status, "4")
	if er.Reason == "undefined" && er.Recipient != "" && found.Code == 0 && found.Enhanced == "" && er.Status == "" && !transient {
		er.Reason, er.Cause = "onhold", "bounce.reason-not-given"
		er.Summary = "the bounce says delivery to this recipient failed but gives no reason"
		er.Fix = "look for the reason in the receiving side's logs, or retry and read the next bounce; nothing in this one says what to fix"
	}
}

func bncSetExpired(er *ExplainedReply) {
	er.Reason, er.Cause, er.ActionBy = "expired", "delivery.expired", catalog.ActionRecipientAdmin
	er.Summary = "the sending server gave up (or is still retrying) after repeated temporary failures: the message could not be delivered within its retry period"
	er.Fix = "check that the recipient's MX hosts accept connections from the sending server; the last temporary error above says why they did not"
	er.References = append(er.References, "RFC 3464 §2.3.3", "RFC 5321 §4.5.4.1")
}

var (
	bncExpiredRE = lazyre.New(`(?i)(retry timeout exceeded|retry time not reached for any host|in the queue too long|has not been delivered for|could not be delivered for \d+|delivery time expired|message expired|too many retries|delayed for more than|queue lifetime|exceeded the maximum time|will be retried for|giving up|envelope expired)`)
	// Could not connect at all (as opposed to a DNS failure or a connection
	// lost mid-session, which stay network errors): retried until the
	// queue lifetime ran out.
	bncConnectFailRE = lazyre.New(`(?i)(connect(ion)? to .{0,80}(timed out|refused)|connection (timed out|refused)|no route to host|host not reachable|unreachable|(unable|could not|couldn't|cannot|can't|failed) to (connect|establish (an? )?(smtp )?connection)|not accept our requests to connect)`)
)

// bncEnhancedDetail: the enhanced code is X.<subjectDetail> ("1.1" for X.1.1).
func bncEnhancedDetail(enhanced, subjectDetail string) bool {
	return len(enhanced) > 2 && enhanced[2:] == subjectDetail
}
