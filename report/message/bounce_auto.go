package message

// Automatic messages that are not bounces: feedback reports and auto-replies.
//
// Feedback reports (ARF, RFC 5965) are sent by mailbox providers when a user
// marks a message as spam (abuse), asks to unsubscribe (opt-out), or when an
// authentication failure is reported (auth-failure, RFC 6591). Their
// machine-readable part is message/feedback-report (§3). Two common
// variants carry no such part: Microsoft's JMRP ("complaint about message
// from IP", the original message with X-HmXmrOriginalRecipient) and Apple
// Mail's unsubscribe message (X-Apple-Unsubscribe: true).
//
// Auto-replies (RFC 3834: vacation, out-of-office) are identified by
// Auto-Submitted: auto-replied (§5) together with the absence of anything
// that makes the message a delivery report, or by the de-facto headers and
// subjects of the common responders (Exchange "Automatic reply:", X-Autoreply,
// X-Autorespond, Precedence: auto_reply).

import (
	"strings"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/catalog"
)

// bncFeedback recognises a feedback report and explains it: one answer
// per report (a message may carry several message/feedback-report parts,
// or several reported messages), and per recipient of a report
// (Original-Rcpt-To may appear more than once: IANA MARF registry, RFC
// 5965 §3.2). nil when the message is not a feedback report.
func bncFeedback(root *Part) []ExplainedReply {
	var out []ExplainedReply
	for _, r := range bncFeedbackReports(root) {
		rcpts := r.rcpts
		if len(rcpts) == 0 {
			rcpts = []string{""}
		}
		for _, rcpt := range rcpts {
			if len(out) >= 1000 {
				return out
			}
			out = append(out, bncFeedbackReply(r.ftype, rcpt, r.sourceIP))
		}
	}
	return out
}

// bncReport is one feedback report found in a message.
type bncReport struct {
	ftype    string
	rcpts    []string
	sourceIP string
}

// bncFeedbackReports finds the reports: each message/feedback-report part
// (RFC 5965 §3) with the recipients it names, else a multipart/report of
// report-type feedback-report without one, else Apple Mail's unsubscribe
// message, else Microsoft JMRP's reported messages (one report per message
// carrying X-HmXmrOriginalRecipient).
func bncFeedbackReports(root *Part) []bncReport {
	var out []bncReport
	root.Walk(func(p *Part) {
		if p.MediaType != "message/feedback-report" {
			return
		}
		fields := bncHeader(dsnFields(p.Text()))
		r := bncReport{ftype: strings.ToLower(dsnFirstWord(fields.Get("Feedback-Type"))), sourceIP: fields.Get("Source-IP")}
		for _, name := range []string{"Original-Rcpt-To", "Removal-Recipient"} {
			for _, v := range fields.Values(name) {
				if a := dsnAddress(v); a != "" {
					r.rcpts = append(r.rcpts, a)
				}
			}
			if len(r.rcpts) > 0 {
				break
			}
		}
		out = append(out, r)
	})
	if len(out) == 0 && strings.EqualFold(root.Params["report-type"], "feedback-report") {
		out = append(out, bncReport{ftype: "abuse"})
	}
	if len(out) == 0 && strings.EqualFold(root.Header.Get("X-Apple-Unsubscribe"), "true") {
		out = append(out, bncReport{ftype: "opt-out", rcpts: []string{dsnAddress(root.Header.Get("To"))}})
	}
	if len(out) == 0 {
		root.Walk(func(p *Part) {
			if v := p.Header.Get("X-HmXmrOriginalRecipient"); v != "" {
				out = append(out, bncReport{ftype: "abuse", rcpts: []string{dsnAddress(v)}})
			}
		})
	}
	if len(out) == 1 && len(out[0].rcpts) == 0 {
		// The recipient of the one report is the To of the reported message.
		root.Walk(func(p *Part) {
			if len(out[0].rcpts) == 0 && p != root && p.Header.Get("To") != "" && p.Header.Get("From") != "" {
				out[0].rcpts = []string{dsnAddress(p.Header.Get("To"))}
			}
		})
	}
	for i := range out {
		if out[i].ftype == "" {
			out[i].ftype = "other"
		}
	}
	return out
}

// bncFeedbackReply is the answer for one reported recipient.
func bncFeedbackReply(ftype, rcpt, src string) ExplainedReply {
	er := ExplainedReply{
		Recipient:    rcpt,
		Source:       "feedback-report",
		FeedbackType: ftype,
		Reply:        strings.TrimSpace("Feedback-Type: " + ftype + " " + src),
		Explanation: catalog.Explanation{Stage: catalog.StageUnknown, Reason: "feedback", Cause: "feedback." + ftype,
			ActionBy: catalog.ActionSender, Summary: bncFeedbackSummary(ftype),
			Fix:        bncFeedbackFix(ftype),
			References: []string{"RFC 5965 §3.1", "RFC 6591"}},
	}
	er.Entities = ExtractEntities(src + " " + rcpt)
	return er
}

// bncHeader turns fields (with blank-line markers) into a Header.
func bncHeader(fs []HeaderField) Header {
	var h Header
	for _, f := range fs {
		if f.Name != "" {
			h = append(h, f)
		}
	}
	return h
}

func bncFeedbackSummary(t string) string {
	switch t {
	case "abuse":
		return "a feedback report (ARF): a recipient marked the message as spam; it was delivered"
	case "opt-out", "unsubscribe":
		return "a feedback report: the recipient asks to be unsubscribed"
	case "auth-failure":
		return "a feedback report (RFC 6591): the message failed SPF/DKIM/DMARC authentication at the receiver"
	case "fraud":
		return "a feedback report: the message was reported as fraud or phishing"
	case "virus":
		return "a feedback report: the message was reported as carrying a virus"
	}
	return "a feedback report (ARF, type " + t + "); the message was delivered"
}

func bncFeedbackFix(t string) string {
	switch t {
	case "abuse", "opt-out", "unsubscribe":
		return "stop mailing this recipient (suppress the address); check how the address was acquired and that unsubscribe links work"
	case "auth-failure":
		return "check the SPF record, DKIM signing and DMARC alignment of the sending domain for the reported source IP (mxray check DOMAIN)"
	}
	return "review the reported message and the sending practice"
}

var (
	bncAutoSubjectRE = lazyre.New(`(?i)^\s*(?:automatic reply|auto(?:matic)?[ -]?(?:reply|response|respons|antwort)|out of (?:the )?office|vacation|away from|abwesenheit|absence|r[ée]ponse automatique|自動応答|不在)`)
	bncBounceHintRE  = lazyre.New(`(?i)(undeliver|undelivered|delivery (?:status|failure|notification|failed|has failed)|failure notice|returned mail|mail delivery|could not be delivered|not delivered|delivery problem|non[- ]?delivery|rejected|bounce|delayed mail|warning: message)`)
	bncDaemonFromRE  = lazyre.New(`(?i)(mailer-daemon|postmaster|mail delivery|mail administrator|mail.?system)`)
)

// bncAutoReply reports an RFC 3834 auto-reply that is not a bounce.
func bncAutoReply(root *Part, notification string) bool {
	subj := root.Header.Decoded("Subject")
	from := root.Header.Get("From")
	if bncBounceHintRE.MatchString(subj) || bncDaemonFromRE.MatchString(from) {
		return false
	}
	isReport := false
	root.Walk(func(p *Part) {
		if p.MediaType == "multipart/report" || strings.HasPrefix(p.MediaType, "message/delivery-status") {
			isReport = true
		}
	})
	if isReport {
		return false
	}
	h := root.Header
	if bncAutoSubjectRE.MatchString(subj) {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" ||
		strings.EqualFold(h.Get("Precedence"), "auto_reply") {
		return true
	}
	// RFC 3834 §5.1: "auto-replied" marks a reply generated automatically.
	if strings.HasPrefix(strings.ToLower(h.Get("Auto-Submitted")), "auto-replied") && FindReply(notification).Code == 0 {
		return true
	}
	return false
}
