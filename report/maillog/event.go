package maillog

import (
	"strings"
	"time"

	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/message"
)

// Directions of an event.
const (
	// Inbound: this server refused a client (smtpd "reject:", Exim
	// "rejected", Sendmail "reject=").
	Inbound = "inbound"
	// Outbound: a remote server refused, deferred or could not be reached
	// by this server's delivery (Postfix smtp/lmtp, Exim remote
	// transports, Sendmail's esmtp mailer).
	Outbound = "outbound"
	// Local: a local delivery failed (Postfix local/virtual/pipe/error,
	// Exim local transports, Sendmail's local and prog mailers).
	Local = "local"
)

// Actions of an event.
const (
	ActionRejected = "rejected" // inbound: the reply this server gave
	ActionBounced  = "bounced"  // given up: the message returns to its sender
	ActionDeferred = "deferred" // retried later
	ActionExpired  = "expired"  // deferred until the queue lifetime ran out
)

// Event is one refused, deferred or bounced recipient (or one refused
// client, for refusals before any recipient was named).
type Event struct {
	Time       time.Time `json:"time,omitzero"`
	LineNumber int       `json:"line_number"`
	MTA        string    `json:"mta"`     // postfix, exim, sendmail
	Program    string    `json:"program"` // as logged: "postfix/smtpd", "exim4", "sm-mta"
	Host       string    `json:"host,omitempty"`
	QueueID    string    `json:"queue_id,omitempty"`
	Direction  string    `json:"direction"` // inbound, outbound, local
	Action     string    `json:"action"`    // rejected, bounced, deferred, expired
	Recipient  string    `json:"recipient"`
	Sender     string    `json:"sender"` // "" for the null sender <> or when the log does not say
	RemoteHost string    `json:"remote_host,omitempty"`
	RemoteIP   string    `json:"remote_ip,omitempty"`
	DSN        string    `json:"dsn,omitempty"` // the log's dsn= status
	Reply      string    `json:"reply"`         // the reply or error text that was explained
	catalog.Explanation
	Line string `json:"line"`
}

// maxLine bounds the copy of a line kept in an event.
const maxLine = 2048

// parsed is what an MTA's parser read from one line, before explaining.
type parsed struct {
	mta, queueID, direction, action string
	recipients                      []string
	sender                          string
	haveSender                      bool // the line itself says the sender
	remoteHost, remoteIP, dsn       string
	stage                           catalog.Stage
	code                            int
	enhanced                        string
	text                            string
	permanent                       *bool // known from the line when there is no code (Exim's "temporarily rejected")
}

// source names the MTA's log in ExplainedReply.Source.
func (p *parsed) source() string { return p.mta + "-log" }

// dsnAction maps the event's action to the DSN Action the classification
// rules read (RFC 3464 §2.3.3).
func (p *parsed) dsnAction() string {
	switch p.action {
	case ActionBounced:
		return "failed"
	case ActionDeferred:
		return "delayed"
	case ActionExpired:
		return "expired"
	}
	return ""
}

// explain turns what was parsed into one event per recipient.
func (p *parsed) explain(opt message.ExplainOptions) message.ExplainedReply {
	found := message.FoundReply{Code: p.code, Enhanced: p.enhanced, Text: p.text, Stage: p.stage}
	if found.Enhanced == "" && validStatus(p.dsn, p.code) {
		found.Enhanced = p.dsn
	}
	rcpt := ""
	if len(p.recipients) > 0 {
		rcpt = p.recipients[0]
	}
	er := message.ExplainReply(found, message.Delivery{Recipient: rcpt, Source: p.source(),
		Action: p.dsnAction(), Status: p.dsn, RemoteMTA: p.remoteHost}, opt)
	if p.permanent != nil && er.Code == 0 && !strings.HasPrefix(er.EnhancedCode, "4") && !strings.HasPrefix(er.EnhancedCode, "5") {
		er.Permanent = *p.permanent
	}
	return er
}

// validStatus: an enhanced status code (RFC 3463 §2) whose class agrees with
// the basic code.
func validStatus(s string, code int) bool {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return false
	}
	if _, _, _, ok := catalog.ParseEnhancedCode(s); !ok {
		return false
	}
	return code == 0 || int(s[0]-'0') == code/100
}
