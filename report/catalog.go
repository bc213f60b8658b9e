package report

// PROVISIONAL: the reply catalog (issue 7) replaces this file. Until then,
// Explain classifies by the basic reply code only (RFC 5321 §4.2.1).

import "strings"

// Explain maps one SMTP reply, seen at a stage, to its documented cause.
func Explain(stage Stage, code int, enhanced string, text string) Explanation {
	e := Explanation{Stage: stage, Code: code, EnhancedCode: enhanced, Permanent: code >= 500 && code < 600}
	switch {
	case code >= 200 && code < 400:
		e.Reason, e.Cause, e.ActionBy, e.Summary = "delivered", "ok", ActionNobody, "accepted"
	case code >= 400 && code < 500:
		e.Reason, e.Cause, e.ActionBy, e.Summary = "undefined", "transient", ActionNobody, "temporary failure: "+strings.TrimSpace(text)
		e.Fix = "retry later"
	default:
		e.Reason, e.Cause, e.ActionBy, e.Summary = "undefined", "permanent", ActionSenderAdmin, "permanent failure: "+strings.TrimSpace(text)
	}
	return e
}
