package probe

import (
	"fmt"
	"strings"
	"time"

	"github.com/mxray/mxray/report"
)

// Status is how a session ended, in the style of zgrab2's statuses: one
// word a monitor can key on, with Session.Detail saying more.
type Status string

const (
	StatusOK                 Status = "ok"
	StatusConnectionRefused  Status = "connection-refused"
	StatusConnectionTimeout  Status = "connection-timeout"
	StatusConnectionError    Status = "connection-error"    // other dial errors
	StatusNetworkUnreachable Status = "network-unreachable" // no route from here (e.g. an IPv6 address on an IPv4-only network)
	StatusGreetingTimeout    Status = "greeting-timeout"
	StatusRejectedAtGreeting Status = "rejected-at-greeting" // 554 (or other non-220) greeting
	StatusRejectedAtHELO     Status = "rejected-at-helo"     // EHLO and HELO refused
	StatusTLSHandshakeFailed Status = "tls-handshake-failed"
	StatusProtocolError      Status = "protocol-error"   // malformed reply, limits exceeded, closed mid-session
	StatusRateLimited        Status = "rate-limited"     // 421 "too many connections" and the like
	StatusTarpitting         Status = "tarpitting"       // a reply did not come within the command deadline
	StatusClosedByServer     Status = "closed-by-server" // a 421 mid-session that is not about rate limits
	StatusGreylisted         Status = "greylisted"       // 450/451 4.7.1 at RCPT TO
	StatusCanceled           Status = "canceled"         // the caller's context ended
	StatusSessionTimeout     Status = "session-timeout"  // the whole-session deadline ran out
)

// Reached reports whether an SMTP conversation took place (a greeting was
// read), so that "no STARTTLS" and the like may be judged.
func (s Status) Reached() bool {
	switch s {
	case StatusOK, StatusGreylisted, StatusRejectedAtHELO:
		return true
	}
	return false
}

// ConnectFailed reports a failure to open the TCP connection.
func (s Status) ConnectFailed() bool {
	return s == StatusConnectionRefused || s == StatusConnectionTimeout || s == StatusConnectionError || s == StatusNetworkUnreachable
}

// Mode is how TLS is used on the connection.
type Mode string

const (
	// ModeSTARTTLS upgrades with STARTTLS when the server offers it
	// (port 25: opportunistic; port 587: required before AUTH, RFC 8314 §3.3
	// prefers 465 but 587 with STARTTLS is common).
	ModeSTARTTLS Mode = "starttls"
	// ModeImplicitTLS handshakes before the greeting (port 465, RFC 8314 §3.3).
	ModeImplicitTLS Mode = "implicit-tls"
	// ModePlain never starts TLS.
	ModePlain Mode = "plain"
)

// RcptKind says why an address was tried.
type RcptKind string

const (
	RcptPostmaster RcptKind = "postmaster" // RFC 5321 §4.5.1: must be accepted
	RcptUser       RcptKind = "user"       // --rcpt
	RcptRandom     RcptKind = "random"     // catch-all detection
	RcptRelay      RcptKind = "relay"      // open-relay probe: a domain the server is not responsible for
)

// RcptResult is one RCPT TO and its reply.
type RcptResult struct {
	Kind    RcptKind `json:"kind"`
	Address string   `json:"address"`
	Reply   *Reply   `json:"reply,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Accepted is true for a 2xx reply (251 "will forward" included).
func (r RcptResult) Accepted() bool {
	return r.Reply != nil && r.Reply.Code >= 200 && r.Reply.Code < 300
}

// Timings of a session.
type Timings struct {
	Connect  report.Duration `json:"connect_ms"`
	Greeting report.Duration `json:"greeting_ms"`
	TLS      report.Duration `json:"tls_ms,omitempty"`
	Total    report.Duration `json:"total_ms"`
}

// Session is everything one SMTP dry run observed.
type Session struct {
	// Host is the name the target is known by (the MX host): it is
	// verified against the certificate and compared with the banner.
	Host string `json:"host"`
	// Addr is the address:port dialed.
	Addr      string    `json:"addr"`
	Port      int       `json:"port"`
	Mode      Mode      `json:"mode"`
	Domain    string    `json:"domain,omitempty"` // the mail domain of the recipients
	StartedAt time.Time `json:"started_at"`

	Status Status `json:"status"`
	// Detail explains Status in one line.
	Detail string `json:"detail,omitempty"`
	// LocalAddr is the client's address:port, as the server saw it.
	LocalAddr string `json:"local_addr,omitempty"`

	Greeting *Reply `json:"greeting,omitempty"`
	// BannerHost is the first word of the greeting text, the name the
	// server gives itself (RFC 5321 §4.3.1).
	BannerHost string `json:"banner_host,omitempty"`
	HELOName   string `json:"helo_name"`
	// HELOFallback is true when EHLO was refused (500/502) and HELO used.
	HELOFallback bool   `json:"helo_fallback,omitempty"`
	EHLO         *Reply `json:"ehlo,omitempty"`
	// EHLOHost is the first word of the EHLO reply's first line.
	EHLOHost   string     `json:"ehlo_host,omitempty"`
	Extensions Extensions `json:"extensions,omitempty"`
	// STARTTLS is the reply to STARTTLS, when it was sent.
	STARTTLS *Reply   `json:"starttls,omitempty"`
	TLS      *TLSInfo `json:"tls,omitempty"`
	// ExtensionsTLS are the extensions offered after TLS.
	ExtensionsTLS Extensions `json:"extensions_tls,omitempty"`

	// Auth is the AUTH attempt, only when credentials were given.
	Auth     *AuthResult  `json:"auth,omitempty"`
	MailFrom []MailResult `json:"mail_from,omitempty"`
	Rcpts    []RcptResult `json:"rcpts,omitempty"`
	VRFY     *Reply       `json:"vrfy,omitempty"` // the reply to "VRFY postmaster"
	Quit     *Reply       `json:"quit,omitempty"`
	// PlainRetry is the plaintext session run after a failed STARTTLS
	// handshake, as opportunistic senders do.
	PlainRetry *Session `json:"plain_retry,omitempty"`
	Steps      []Step   `json:"transcript"`
	Timings    Timings  `json:"timings"`
}

// AuthResult is an AUTH attempt (RFC 4954) with caller-given credentials.
type AuthResult struct {
	Mechanism string `json:"mechanism"`
	Username  string `json:"username"`
	Reply     *Reply `json:"reply,omitempty"`
	// Skipped says why AUTH was not attempted.
	Skipped string `json:"skipped,omitempty"`
}

// MailResult is one MAIL FROM and its reply.
type MailResult struct {
	From  string `json:"from"` // "" is the null reverse-path <>
	Reply *Reply `json:"reply,omitempty"`
	Error string `json:"error,omitempty"`
}

// MailAccepted reports whether a MAIL FROM was accepted.
func (s *Session) MailAccepted() bool {
	for _, m := range s.MailFrom {
		if m.Reply.Positive() {
			return true
		}
	}
	return false
}

// Rcpt returns the first result of that kind.
func (s *Session) Rcpt(kind RcptKind) (RcptResult, bool) {
	for _, r := range s.Rcpts {
		if r.Kind == kind {
			return r, true
		}
	}
	return RcptResult{}, false
}

// FinalExtensions are the extensions in force for the mail transaction:
// after TLS when TLS was started, else before.
func (s *Session) FinalExtensions() Extensions {
	if s.TLS != nil && s.TLS.Handshake == "ok" && s.ExtensionsTLS != nil {
		return s.ExtensionsTLS
	}
	return s.Extensions
}

// Transcript is the whole conversation as text: "C:" lines sent, "S:"
// lines received, "*" events, each with its offset from the session start.
func (s *Session) Transcript() []string {
	var out []string
	for _, st := range s.Steps {
		at := func(t time.Time) string {
			if t.IsZero() {
				return "        "
			}
			return fmt.Sprintf("%7.1fms", float64(t.Sub(s.StartedAt).Microseconds())/1000)
		}
		if st.Note != "" {
			out = append(out, fmt.Sprintf("%s * %s", at(st.SentAt), st.Note))
		}
		if st.Command != "" {
			out = append(out, fmt.Sprintf("%s C: %s", at(st.SentAt), st.Command))
		}
		if st.Reply != nil {
			for _, l := range st.Reply.Lines {
				out = append(out, fmt.Sprintf("%s S: %s", at(st.Reply.ReceivedAt), printable(l)))
			}
		}
		if st.Error != "" {
			out = append(out, fmt.Sprintf("%s ! %s", at(st.SentAt), st.Error))
		}
	}
	return out
}

// Summary is a one-line description of the session.
func (s *Session) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) port %d: %s", s.Host, s.Addr, s.Port, s.Status)
	if s.Detail != "" {
		b.WriteString(" — " + s.Detail)
	}
	return b.String()
}

// printable escapes control characters so hostile replies cannot drive the
// terminal.
func printable(s string) string {
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			q := fmt.Sprintf("%q", s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// Detail is the text/JSON detail of an SMTP section: the sessions, and
// what the text renderer shows of them.
type Detail struct {
	Sessions []*Session `json:"sessions"`
	// ShowTranscript adds every line sent and received, with offsets.
	ShowTranscript bool `json:"-"`
	// ShowReplies adds every reply with the catalog's explanation and the
	// command's round-trip time.
	ShowReplies bool `json:"-"`
}

// DetailLines implements report.Detailer.
func (d *Detail) DetailLines() []string {
	var out []string
	for _, s := range d.Sessions {
		out = append(out, s.Summary())
		t := s.Timings
		out = append(out, fmt.Sprintf("  timings: connect %s, greeting %s, tls %s, total %s",
			dur(t.Connect), dur(t.Greeting), dur(t.TLS), dur(t.Total)))
		if d.ShowTranscript {
			out = append(out, "  transcript:")
			for _, l := range s.Transcript() {
				out = append(out, "    "+l)
			}
			if s.PlainRetry != nil {
				out = append(out, "  transcript of the plaintext retry ("+string(s.PlainRetry.Status)+"):")
				for _, l := range s.PlainRetry.Transcript() {
					out = append(out, "    "+l)
				}
			}
		}
		if d.ShowReplies {
			out = append(out, "  replies:")
			for _, st := range s.Steps {
				if st.Reply == nil {
					continue
				}
				e := st.Reply.Explain
				what := st.Command
				if what == "" {
					what = "(greeting)"
				}
				out = append(out, fmt.Sprintf("    %-28s %d %-7s %8s  %s [%s; %s]", printable(truncate(what, 28)), st.Reply.Code,
					st.Reply.Enhanced, dur(st.Duration), e.Summary, e.Reason, e.ActionBy))
			}
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func dur(d report.Duration) string {
	return time.Duration(d).Round(100 * time.Microsecond).String()
}
