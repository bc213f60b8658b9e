package message

// Reasons that follow from where and when a reply was given, not from its
// words. The reply catalog explains a reply on its own; a bounce also says
// at which stage it came and whether the sending MTA gave up. Three rules,
// each from the definition of the reason in the bounce taxonomy
// (testdata/bounces/reasons.csv):
//
//   - delivered: the DSN reports a success (RFC 3464 §2.3.3 Action
//     delivered/relayed/expanded, or a 2.X.X status, RFC 3463 §3.1).
//   - expired: the sending MTA gave up (Action: failed, or a non-DSN bounce)
//     after a transient failure (4xx reply or 4.X.X status: RFC 5321
//     §4.2.1 says the command may succeed later), or it reports a delay
//     (Action: delayed) whose reply says nothing more specific. "Delivery
//     time expired after repeated temporary failures".
//     X.4.7 (RFC 3463 §3.5: delivery time expired) says so directly.
//   - onhold: the bounce names a failed recipient and says nothing else (no
//     reply, no status, no known words): "insufficient information".
//   - filtered: a "no such user" given after DATA. At RCPT the recipient was
//     accepted, so the refusal after the message content is a recipient-side
//     filter or rule, not an unknown mailbox ("Rejected after DATA by
//     recipient-side filtering").

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
	bncDeliveryReason(&er, found)
	return er
}

// bncDeliveryReason applies the rules to an explained reply.
func bncDeliveryReason(er *ExplainedReply, found FoundReply) {
	switch er.Action {
	case "delivered", "relayed", "expanded":
		if found.Code == 0 || found.Code < 400 {
			er.Reason, er.Cause, er.ActionBy, er.Permanent = "delivered", "dsn."+er.Action, catalog.ActionNobody, false
			er.Summary = "the message was " + er.Action + " (a success notification, not a bounce)"
			er.Fix = "nothing to fix"
			return
		}
	}
	if len(er.Status) > 2 && er.Status[:2] == "2." && (found.Code == 0 || found.Code < 400) {
		er.Reason, er.Cause, er.ActionBy, er.Permanent = "delivered", "dsn.success", catalog.ActionNobody, false
		er.Summary, er.Fix = "the status is a success ("+er.Status+")", "nothing to fix"
		return
	}
	transient := (found.Code >= 400 && found.Code < 500) ||
		(found.Code == 0 && (len(er.Status) > 0 && er.Status[0] == '4' || len(er.EnhancedCode) > 0 && er.EnhancedCode[0] == '4'))
	isLog := strings.HasSuffix(er.Source, "-log")
	gaveUp := er.Action == "failed" || er.Action == "expired" || (er.Action == "" && er.Source != "reply" && er.Source != "text" && !isLog)
	vague := bncFallback(er.Explanation) || er.Reason == "undefined"
	switch {
	case bncEnhancedDetail(er.Status, "4.7") || bncEnhancedDetail(er.EnhancedCode, "4.7"),
		er.Action == "expired",
		vague && bncExpiredRE.MatchString(er.Reply),
		gaveUp && transient && er.Reason == "networkerror" && bncConnectFailRE.MatchString(er.Reply),
		er.Action == "delayed" && vague && !isLog:
		bncSetExpired(er)
	case er.Reason == "undefined" && er.Recipient != "" && found.Code == 0 && found.Enhanced == "" && er.Status == "" && !transient:
		// The bounce names the recipient as failed but gives no reply, no
		// status and no words the catalog knows: the reason is on hold,
		// not undetectable (the taxonomy's onhold: "insufficient
		// information" about a known failed recipient).
		er.Reason, er.Cause = "onhold", "bounce.reason-not-given"
		er.Summary = "the bounce says delivery to this recipient failed but gives no reason"
		er.Fix = "look for the reason in the receiving side's logs, or retry and read the next bounce; nothing in this one says what to fix"
	case er.Stage == catalog.StageDATA && er.Reason == "userunknown" && !bncEnhancedDetail(er.EnhancedCode, "1.1"):
		// X.1.1 (RFC 3463: bad destination mailbox address) says the mailbox
		// does not exist whatever the stage: with PIPELINING (RFC 2920) a
		// RCPT refusal is often reported after DATA.
		er.Reason = "filtered"
		er.Cause = "data.recipient-refused"
		er.Summary = "the recipient was accepted at RCPT TO but refused after the message content was sent: a recipient-side filter or rule, not an unknown mailbox (" + er.Summary + ")"
		er.Fix = "the recipient's system refuses this message for this recipient; ask the recipient to allow the sender, or reach them another way"
		er.ActionBy = catalog.ActionRecipientAdmin
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
	bncConnectFailRE = lazyre.New(`(?i)(connect(ion)? to .{0,80}(timed out|refused)|connection timed out|no route to host|host not reachable|unreachable)`)
)

// bncEnhancedDetail: the enhanced code is X.<subjectDetail> ("1.1" for X.1.1).
func bncEnhancedDetail(enhanced, subjectDetail string) bool {
	return len(enhanced) > 2 && enhanced[2:] == subjectDetail
}
