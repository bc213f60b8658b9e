package catalog

// Stage is the point of an SMTP conversation at which a reply was given.
// The stage matters as much as the code: a 554 at connect is about the
// client IP, after MAIL FROM about the sender, after RCPT TO about the
// recipient.
type Stage string

const (
	StageConnect  Stage = "connect" // the 220/421/554 greeting
	StageEHLO     Stage = "ehlo"    // EHLO or HELO
	StageSTARTTLS Stage = "starttls"
	StageAUTH     Stage = "auth"
	StageMAIL     Stage = "mail"
	StageRCPT     Stage = "rcpt"
	StageDATA     Stage = "data" // DATA command or end of data (only seen in pasted text; mxray never sends DATA)
	StageVRFY     Stage = "vrfy"
	StageRSET     Stage = "rset"
	StageQUIT     Stage = "quit"
	StageUnknown  Stage = "unknown"
)

// ActionBy says who must act on a reply.
type ActionBy string

const (
	ActionSender         ActionBy = "sender"          // the person who sent: fix the address, the content
	ActionSenderAdmin    ActionBy = "sender-admin"    // the sending side's postmaster: DNS, IP reputation, TLS, auth
	ActionRecipientAdmin ActionBy = "recipient-admin" // the receiving side's postmaster
	ActionNobody         ActionBy = "nobody"          // transient: retry later
)

// Explanation is what the reply catalog says about one reply.
type Explanation struct {
	Stage        Stage    `json:"stage"`
	Code         int      `json:"code"`
	EnhancedCode string   `json:"enhanced_code,omitempty"`
	Reason       string   `json:"reason"`    // bounce taxonomy name (reasons.csv): userunknown, blocked, ...
	Cause        string   `json:"cause"`     // catalog entry id, finer than reason
	Permanent    bool     `json:"permanent"` // 5xx: do not retry unchanged
	ActionBy     ActionBy `json:"action_by"`
	Summary      string   `json:"summary"` // one line: what happened
	Fix          string   `json:"fix"`
	References   []string `json:"references,omitempty"`

	// Added by the reply catalog (issue 7).
	Entry        string            `json:"entry,omitempty"`         // the catalog entry that matched (unique id)
	EnhancedName string            `json:"enhanced_name,omitempty"` // registry name of the enhanced code (RFC 3463 etc.)
	Matched      string            `json:"matched,omitempty"`       // the part of the reply text the entry's pattern matched
	Captures     map[string]string `json:"captures,omitempty"`      // named values taken from the text: zone, ip, domain, ...
	Source       string            `json:"source,omitempty"`        // where the catalog entry comes from (RFC, seed line, provider doc)
}
