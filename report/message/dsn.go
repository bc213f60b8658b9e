package message

// Delivery Status Notifications, RFC 3464 (and RFC 6533 for
// message/global-delivery-status).
//
// A DSN is a multipart/report (RFC 6522) whose second part,
// message/delivery-status, is a series of header-like field groups separated
// by blank lines: one per-message group (Reporting-MTA, Arrival-Date, …,
// §2.2) and one per-recipient group per recipient (Final-Recipient, Action,
// Status, Remote-MTA, Diagnostic-Code, …, §2.3). The Status field carries the
// RFC 3463 enhanced code; Diagnostic-Code carries the remote server's reply
// ("smtp; 550 5.1.1 …", §2.3.6), which is what the reply catalog explains.
//
// Real DSNs bend the format: groups without the separating blank line,
// Diagnostic-Code folded over many lines, type prefixes missing. The parser
// starts a new recipient group at every Final-Recipient (or
// Original-Recipient) it meets, whatever the blank lines say.

import (
	"strings"
)

// DSN is a parsed message/delivery-status body.
type DSN struct {
	ReportingMTA string         `json:"reporting_mta,omitempty"` // RFC 3464 §2.2.2
	ArrivalDate  string         `json:"arrival_date,omitempty"`  // §2.2.5
	Recipients   []DSNRecipient `json:"recipients"`
}

// DSNRecipient is one per-recipient group (RFC 3464 §2.3).
type DSNRecipient struct {
	FinalRecipient    string `json:"final_recipient,omitempty"`    // §2.3.2, address only
	OriginalRecipient string `json:"original_recipient,omitempty"` // §2.3.1
	Action            string `json:"action,omitempty"`             // §2.3.3: failed, delayed, delivered, relayed, expanded
	Status            string `json:"status,omitempty"`             // §2.3.4: enhanced status code (RFC 3463)
	StatusComment     string `json:"status_comment,omitempty"`     // a comment after the code: "(host name lookup failure)"
	RemoteMTA         string `json:"remote_mta,omitempty"`         // §2.3.5
	DiagnosticType    string `json:"diagnostic_type,omitempty"`    // §2.3.6: "smtp", "X-Postfix", …
	DiagnosticCode    string `json:"diagnostic_code,omitempty"`    // §2.3.6, text after "type;"
	LastAttemptDate   string `json:"last_attempt_date,omitempty"`  // §2.3.7
	WillRetryUntil    string `json:"will_retry_until,omitempty"`   // §2.3.9
	// Fields is the raw group, for evidence.
	Fields Header `json:"-"`
}

// ParseDSN parses the body of a message/delivery-status part.
func ParseDSN(body string) *DSN {
	d := &DSN{}
	var cur *DSNRecipient
	flush := func() {
		if cur != nil && (cur.FinalRecipient != "" || cur.OriginalRecipient != "" || cur.Status != "" || cur.DiagnosticCode != "") {
			d.Recipients = append(d.Recipients, *cur)
		}
		cur = nil
	}
	for _, f := range dsnFields(body) {
		name := strings.ToLower(f.Name)
		switch name {
		case "reporting-mta":
			d.ReportingMTA = dsnTypedValue(f.Value)
			continue
		case "arrival-date":
			d.ArrivalDate = f.Value
			continue
		case "final-recipient", "original-recipient", "action", "status", "diagnostic-code":
			// A field that repeats inside a group starts the next recipient:
			// some MTAs omit the blank line between recipients.
			if cur != nil && cur.Fields.Get(f.Name) != "" {
				flush()
			}
		case "":
			flush() // group separator
			continue
		}
		if cur == nil {
			if !dsnRecipientField(name) {
				continue // other per-message fields
			}
			cur = &DSNRecipient{}
		}
		cur.Fields = append(cur.Fields, f)
		switch name {
		case "final-recipient":
			cur.FinalRecipient = dsnAddress(dsnTypedValue(f.Value))
		case "original-recipient":
			cur.OriginalRecipient = dsnAddress(dsnTypedValue(f.Value))
		case "action":
			cur.Action = strings.ToLower(dsnFirstWord(f.Value))
		case "status":
			cur.Status = dsnFirstWord(f.Value)
			if i := strings.IndexByte(f.Value, '('); i >= 0 {
				cur.StatusComment = strings.Trim(strings.TrimSpace(f.Value[i:]), "()")
			}
		case "remote-mta":
			cur.RemoteMTA = dsnTypedValue(f.Value)
		case "diagnostic-code":
			t, v, ok := strings.Cut(f.Value, ";")
			if ok && !strings.ContainsAny(strings.TrimSpace(t), " ") {
				cur.DiagnosticType, cur.DiagnosticCode = strings.TrimSpace(t), strings.TrimSpace(v)
			} else {
				cur.DiagnosticCode = strings.TrimSpace(f.Value)
			}
		case "last-attempt-date":
			cur.LastAttemptDate = f.Value
		case "will-retry-until":
			cur.WillRetryUntil = f.Value
		}
	}
	flush()
	// Fill Final-Recipient from Original-Recipient where only that was given.
	for i := range d.Recipients {
		if d.Recipients[i].FinalRecipient == "" {
			d.Recipients[i].FinalRecipient = d.Recipients[i].OriginalRecipient
		}
	}
	return d
}

func dsnRecipientField(name string) bool {
	switch name {
	case "final-recipient", "original-recipient", "x-actual-recipient", "action", "status", "remote-mta",
		"diagnostic-code", "last-attempt-date", "will-retry-until", "final-log-id", "x-display-name":
		return true
	}
	return false
}

// dsnFields unfolds the field groups; an empty Name marks a blank line.
func dsnFields(body string) []HeaderField {
	var out []HeaderField
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			if len(out) > 0 && out[len(out)-1].Name != "" {
				out = append(out, HeaderField{})
			}
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 && out[len(out)-1].Name != "" {
			if len(out[len(out)-1].Value) < 16<<10 {
				out[len(out)-1].Value += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !mimeFieldName([]byte(name)) {
			continue
		}
		out = append(out, HeaderField{Name: name, Value: strings.TrimSpace(value)})
	}
	return out
}

// dsnTypedValue strips the "type;" prefix of address and MTA fields
// (RFC 3464 §2.1.2: "rfc822; user@example.com", "dns; mx.example.com").
func dsnTypedValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " @") {
		v = rest
	}
	return strings.TrimSpace(v)
}

func dsnFirstWord(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

// dsnAddress extracts the bare address from "<a@b>", "Name <a@b>" or "a@b".
func dsnAddress(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	v = strings.Trim(v, "<>\"' ")
	if i := strings.IndexAny(v, " \t"); i >= 0 && strings.Contains(v[:i], "@") {
		v = v[:i]
	}
	return v
}
