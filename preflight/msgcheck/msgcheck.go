// Package msgcheck checks a message before it is sent to many recipients,
// the way the large mailbox providers look at it:
//
//   - its form (RFC 5322 §3.6): exactly one From with one address in a valid
//     domain (§3.6.2), exactly one Date (§3.6.1, syntax §3.3), a valid
//     Message-ID (§3.6.4, the msg-id syntax), and no field that may occur
//     at most once occurring twice (the table of §3.6);
//   - its list unsubscribe fields: List-Unsubscribe (RFC 2369 §3.2, a
//     comma-separated list of URIs in angle brackets) with an HTTPS URI, and
//     List-Unsubscribe-Post whose value is exactly
//     "List-Unsubscribe=One-Click", one field each (RFC 8058 §3.1); the
//     common wrong form "List-Unsubscribe-Post: One-Click" is named. That
//     both fields are covered by a valid DKIM signature (RFC 8058 §3.1) is
//     judged with the signatures' verification (CoveredBy);
//   - whether From uses a mailbox provider's own domain (Gmail's guidelines:
//     "Don't impersonate Gmail From: headers");
//   - its size, against the SIZE limits receivers announce (RFC 1870);
//   - the domains its body links to, for the domain blocklists.
//
// The message is read with report/message's bounded MIME reader; that
// package reads what other systems report (bounces, DSNs), this one judges
// what the user is about to send, so the rules live apart.
package msgcheck

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/internal/lazyre"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report/message"
)

// MaxSize is the largest message read; no mailbox provider accepts more.
const MaxSize = 64 << 20

// MaxLinkDomains bounds the link domains collected from the body.
const MaxLinkDomains = 30

// Problem is one way the message breaks RFC 5322 §3.6.
type Problem struct {
	Field  string `json:"field"`
	Kind   string `json:"kind"` // missing, duplicate, multiple-addresses, invalid
	Detail string `json:"detail"`
}

// Result is what the checks found in one message.
type Result struct {
	Size       int       `json:"size"` // octets in wire form (CRLF line ends)
	From       string    `json:"from,omitempty"`
	FromDomain string    `json:"from_domain,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	Date       string    `json:"date,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Form       []Problem `json:"form_problems,omitempty"`
	// Impersonates is the provider whose own domain the From uses.
	Impersonates provider.ID `json:"impersonates,omitempty"`
	Unsubscribe  Unsubscribe `json:"unsubscribe"`
	LinkDomains  []string    `json:"link_domains,omitempty"`
}

// Unsubscribe is what the list unsubscribe fields say.
type Unsubscribe struct {
	Fields     int      `json:"fields"` // List-Unsubscribe fields
	Value      string   `json:"value,omitempty"`
	URIs       []string `json:"uris,omitempty"`
	HTTPS      []string `json:"https,omitempty"`
	PostFields int      `json:"post_fields"` // List-Unsubscribe-Post fields
	Post       string   `json:"post,omitempty"`
	// OneClick: one field each, an HTTPS URI, and the exact post value.
	OneClick bool `json:"one_click"`
	// Problems say why OneClick is false.
	Problems []string `json:"problems,omitempty"`
}

// ErrNotMessage is wrapped by Check's errors: the input is no message.
var ErrNotMessage = errors.New("not an RFC 5322 message")

// Check reads a message as saved from the sending platform (an .eml). It
// fails only when the input is no message at all: no header fields, or a
// header that is not UTF-8 (RFC 6532 allows UTF-8 there, nothing else).
func Check(raw []byte) (*Result, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d octets, over the %d mxray reads (no mailbox provider accepts that much)", ErrNotMessage, len(raw), MaxSize)
	}
	if off := invalidUTF8(headerBlock(raw)); off >= 0 {
		return nil, fmt.Errorf("%w: the header is not UTF-8 (invalid byte 0x%02x at offset %d)", ErrNotMessage, raw[off], off)
	}
	m := message.ParseMessage(raw, message.Limits{MaxSize: MaxSize, MaxHeaderBytes: 1 << 20,
		MaxHeaderLines: 5000, MaxDepth: 8, MaxParts: 200})
	if m.Root == nil || len(m.Root.Header) == 0 {
		return nil, fmt.Errorf("%w: no header fields (the file must start with a header such as \"From: ...\")", ErrNotMessage)
	}
	h := m.Root.Header
	r := &Result{Size: wireSize(raw), Subject: h.Decoded("Subject")}
	r.Form = append(r.Form, countProblems(h)...)
	r.checkFrom(h)
	r.checkDate(h)
	r.checkMessageID(h)
	r.Unsubscribe = readUnsubscribe(h)
	r.LinkDomains = linkDomains(m.Root)
	return r, nil
}

// headerBlock is the raw header, up to the first empty line.
func headerBlock(raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\n' && (i+1 < len(raw) && raw[i+1] == '\n' || i+2 < len(raw) && raw[i+1] == '\r' && raw[i+2] == '\n') {
			return raw[:i+1]
		}
	}
	return raw
}

// invalidUTF8 is the offset of the first byte that is not UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// wireSize is the size in SMTP: every line ends in CRLF (RFC 5321 §2.3.8),
// which is what SIZE limits count (RFC 1870 §4).
func wireSize(raw []byte) int {
	n := len(raw)
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			n++
		}
	}
	return n
}

// singleFields are the fields RFC 5322 §3.6 allows at most once, and
// whether they are required (min 1).
var singleFields = []struct {
	name     string
	required bool
}{
	{"Date", true}, {"From", true}, {"Sender", false}, {"Reply-To", false}, {"To", false},
	{"Cc", false}, {"Bcc", false}, {"Message-ID", false}, {"In-Reply-To", false},
	{"References", false}, {"Subject", false},
}

func countProblems(h message.Header) []Problem {
	var ps []Problem
	for _, f := range singleFields {
		n := len(h.Values(f.name))
		switch {
		case n == 0 && f.required:
			ps = append(ps, Problem{f.name, "missing", "no " + f.name + " field (RFC 5322 §3.6: exactly one is required)"})
		case n > 1:
			ps = append(ps, Problem{f.name, "duplicate", fmt.Sprintf("%d %s fields (RFC 5322 §3.6: at most one)", n, f.name)})
		}
	}
	return ps
}

var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{}}

// checkFrom: one mailbox (RFC 5322 §3.6.2; several need a Sender, and Gmail
// refuses them anyway) in a valid domain.
func (r *Result) checkFrom(h message.Header) {
	v := h.Values("From")
	if len(v) == 0 {
		return
	}
	list, err := addressParser.ParseList(v[0])
	switch {
	case err != nil:
		r.Form = append(r.Form, Problem{"From", "invalid", fmt.Sprintf("From %q is not an address list: %v", dnscheck.Clip(v[0]), err)})
		return
	case len(list) != 1:
		r.Form = append(r.Form, Problem{"From", "multiple-addresses", fmt.Sprintf("From holds %d addresses; it must hold one", len(list))})
	}
	r.From = list[0].Address
	at := strings.LastIndexByte(r.From, '@')
	d, err := dnscheck.NormalizeDomain(r.From[at+1:])
	if err != nil {
		r.Form = append(r.Form, Problem{"From", "invalid", "the From domain is not a valid domain: " + err.Error()})
		return
	}
	r.FromDomain = d
	if p, ok := provider.OwnDomain(d); ok {
		r.Impersonates = p.ID
	}
}

func (r *Result) checkDate(h message.Header) {
	v := h.Values("Date")
	if len(v) == 0 {
		return
	}
	r.Date = v[0]
	if _, err := mail.ParseDate(v[0]); err != nil {
		r.Form = append(r.Form, Problem{"Date", "invalid", fmt.Sprintf("Date %q is not an RFC 5322 §3.3 date-time", dnscheck.Clip(v[0]))})
	}
}

// msgIDRE is msg-id (RFC 5322 §3.6.4): "<" id-left "@" id-right ">", with
// id-left a dot-atom-text and id-right a dot-atom-text or a no-fold-literal.
var msgIDRE = lazyre.New(`^<[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*@(?:[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*|\[[!-Z^-~]*\])>$`)

func (r *Result) checkMessageID(h message.Header) {
	v := h.Values("Message-ID")
	if len(v) == 0 {
		r.Form = append(r.Form, Problem{"Message-ID", "missing", "no Message-ID field (RFC 5322 §3.6.4 says every message SHOULD have one; Gmail requires it)"})
		return
	}
	r.MessageID = v[0]
	if !msgIDRE.MatchString(strings.TrimSpace(v[0])) {
		r.Form = append(r.Form, Problem{"Message-ID", "invalid", fmt.Sprintf("Message-ID %q is not a msg-id <left@right> (RFC 5322 §3.6.4)", dnscheck.Clip(v[0]))})
	}
}

// OneClickValue is the only value of List-Unsubscribe-Post (RFC 8058 §3.1).
const OneClickValue = "List-Unsubscribe=One-Click"

// uriRE finds the URIs of List-Unsubscribe: each in angle brackets (RFC 2369 §2).
var uriRE = lazyre.New(`<([^<>]*)>`)

func readUnsubscribe(h message.Header) Unsubscribe {
	u := Unsubscribe{}
	lu, post := h.Values("List-Unsubscribe"), h.Values("List-Unsubscribe-Post")
	u.Fields, u.PostFields = len(lu), len(post)
	if len(lu) > 0 {
		u.Value = lu[0]
		for _, m := range uriRE.FindAllStringSubmatch(lu[0], 20) {
			uri := strings.Join(strings.Fields(m[1]), "") // RFC 2369 §2: white space inside is ignored
			u.URIs = append(u.URIs, uri)
			if strings.HasPrefix(strings.ToLower(uri), "https://") {
				u.HTTPS = append(u.HTTPS, uri)
			}
		}
	}
	if len(post) > 0 {
		u.Post = post[0]
	}
	u.Problems = unsubscribeProblems(u)
	u.OneClick = len(u.Problems) == 0
	return u
}

func unsubscribeProblems(u Unsubscribe) []string {
	var ps []string
	switch {
	case u.Fields == 0:
		ps = append(ps, "no List-Unsubscribe field")
	case u.Fields > 1:
		ps = append(ps, fmt.Sprintf("%d List-Unsubscribe fields; RFC 8058 §3.1 wants one", u.Fields))
	case len(u.URIs) == 0:
		ps = append(ps, fmt.Sprintf("List-Unsubscribe %q holds no <URI> (RFC 2369 §3.2)", dnscheck.Clip(u.Value)))
	case len(u.HTTPS) == 0:
		ps = append(ps, "List-Unsubscribe has no HTTPS URI (RFC 8058 §3.1: it MUST contain one); only "+strings.Join(u.URIs, ", "))
	}
	switch {
	case u.PostFields == 0:
		ps = append(ps, "no List-Unsubscribe-Post field")
	case u.PostFields > 1:
		ps = append(ps, fmt.Sprintf("%d List-Unsubscribe-Post fields; RFC 8058 §3.1 wants one", u.PostFields))
	case strings.EqualFold(strings.TrimSpace(u.Post), "One-Click"):
		ps = append(ps, `List-Unsubscribe-Post is "One-Click", a common wrong form: the value must be exactly "`+OneClickValue+`"`)
	case strings.TrimSpace(u.Post) != OneClickValue:
		ps = append(ps, fmt.Sprintf(`List-Unsubscribe-Post is %q; the value must be exactly "%s"`, dnscheck.Clip(u.Post), OneClickValue))
	}
	return ps
}

// CoveredBy returns a valid DKIM signature whose h= names both
// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §3.1), if one exists.
func CoveredBy(v *dkim.Verification) (dkim.Signature, bool) {
	if v == nil {
		return dkim.Signature{}, false
	}
	for _, s := range v.Passing() {
		if s.Covers("List-Unsubscribe") && s.Covers("List-Unsubscribe-Post") {
			return s, true
		}
	}
	return dkim.Signature{}, false
}

// linkRE finds http(s) URLs in text and HTML bodies; the host is group 1.
var linkRE = lazyre.New(`(?i)https?://(?:[^\s/?#@"'<>]*@)?([a-z0-9.\-]+|\[[0-9a-f:.]+\])`)

// linkDomains collects the host names the text parts link to.
func linkDomains(root *message.Part) []string {
	seen := map[string]bool{}
	var out []string
	root.Walk(func(p *message.Part) {
		if len(out) >= MaxLinkDomains || !strings.HasPrefix(p.MediaType, "text/") || len(p.Children) > 0 {
			return
		}
		for _, m := range linkRE.FindAllStringSubmatch(p.Text(), -1) {
			d, err := dnscheck.NormalizeDomain(m[1])
			if err != nil || seen[d] || len(out) >= MaxLinkDomains {
				continue
			}
			seen[d] = true
			out = append(out, d)
		}
	})
	return out
}
