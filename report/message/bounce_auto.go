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

// bncFeedback recognises a feedback report and explains it.
func bncFeedback(root *Part) *ExplainedReply {
	var fields Header
	found := false
	root.Walk(func(p *Part) {
		if !found && p.MediaType == "message/feedback-report" {
			found = true
			fields = bncHeader(dsnFields(p.Text()))
		}
	})
	ftype := ""
	if found {
		ftype = strings.ToLower(dsnFirstWord(fields.Get("Feedback-Type")))
	} else if strings.EqualFold(root.Params["report-type"], "feedback-report") {
		found, ftype = true, "abuse"
	}
	var rcpt string
	if found {
		rcpt = dsnAddress(fields.Get("Original-Rcpt-To"))
		if rcpt == "" {
			rcpt = dsnAddress(fields.Get("Removal-Recipient"))
		}
	}
	if !found {
		// Apple Mail's unsubscribe request.
		if strings.EqualFold(root.Header.Get("X-Apple-Unsubscribe"), "true") {
			found, ftype = true, "opt-out"
			rcpt = dsnAddress(root.Header.Get("To"))
		}
	}
	if !found {
		// Microsoft JMRP: the reported message carries X-HmXmrOriginalRecipient.
		root.Walk(func(p *Part) {
			if v := p.Header.Get("X-HmXmrOriginalRecipient"); v != "" && !found {
				found, ftype, rcpt = true, "abuse", dsnAddress(v)
			}
		})
	}
	if !found {
		return nil
	}
	if rcpt == "" {
		root.Walk(func(p *Part) {
			if rcpt == "" && p != root && p.Header.Get("To") != "" && p.Header.Get("From") != "" {
				rcpt = dsnAddress(p.Header.Get("To"))
			}
		})
	}
	if ftype == "" {
		ftype = "other"
	}
	src := fields.Get("Source-IP")
	er := &ExplainedReply{
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
