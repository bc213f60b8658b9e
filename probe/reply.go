package probe

// SMTP replies (RFC 5321 §4.2).
//
//   - A reply is one or more lines. Every line starts with the same
//     three-digit code; every line but the last has a hyphen after the code,
//     the last has a space (or nothing) (RFC 5321 §4.2.1). A continuation
//     line with a different code is a protocol error; so is a line that does
//     not start with three digits.
//   - The first digit is the class: 2 positive completion, 3 intermediate,
//     4 transient negative, 5 permanent negative (§4.2.1). The first digit
//     must be 2..5 and the second 0..5 (§4.2).
//   - Servers that implement ENHANCEDSTATUSCODES (RFC 2034) put a
//     class.subject.detail code (RFC 3463) at the start of the text, its
//     class matching the reply's first digit.
//   - A reply line is at most 512 octets including CRLF (§4.5.3.1.5). Real
//     servers exceed that a little, so the limit mxray enforces (Limits) is
//     larger; it exists so that a hostile server cannot feed an endless line.

import (
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/report/catalog"
)

// Reply is one complete SMTP reply as received, with the stage at which it
// was given and what the reply catalog says about it.
type Reply struct {
	Stage    catalog.Stage `json:"stage"`
	Code     int           `json:"code"`
	Enhanced string        `json:"enhanced_code,omitempty"`
	// Lines are the reply's lines exactly as received, without CRLF
	// ("250-mx.example.com", "250 SIZE 10240000").
	Lines      []string            `json:"lines"`
	ReceivedAt time.Time           `json:"received_at"`
	Explain    catalog.Explanation `json:"explanation"`
}

// Text is the reply text: every line without its code and separator,
// joined with newlines.
func (r *Reply) Text() string {
	if r == nil {
		return ""
	}
	parts := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		parts[i] = lineText(l)
	}
	return strings.Join(parts, "\n")
}

// TextLines is the text of every line, without code and separator.
func (r *Reply) TextLines() []string {
	if r == nil {
		return nil
	}
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = lineText(l)
	}
	return out
}

// String is the reply as received, lines joined with " / ", for evidence.
func (r *Reply) String() string {
	if r == nil {
		return "(no reply)"
	}
	return strings.Join(r.Lines, " / ")
}

// Positive is true for 2xx (and 3xx) replies.
func (r *Reply) Positive() bool { return r != nil && r.Code >= 200 && r.Code < 400 }

// Transient is true for 4xx replies.
func (r *Reply) Transient() bool { return r != nil && r.Code >= 400 && r.Code < 500 }

// Permanent is true for 5xx replies.
func (r *Reply) Permanent() bool { return r != nil && r.Code >= 500 && r.Code < 600 }

func lineText(l string) string {
	if len(l) <= 4 {
		return ""
	}
	return l[4:]
}

// enhancedRe matches an RFC 3463 status code at the start of the reply text.
var enhancedRe = lazyre.New(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)`)

// parseEnhanced returns the enhanced status code at the start of text if its
// class matches the reply code's class (RFC 2034 §4), else "".
func parseEnhanced(code int, text string) string {
	m := enhancedRe.FindStringSubmatch(text)
	if m == nil || m[1] != strconv.Itoa(code/100) {
		return ""
	}
	return m[1] + "." + m[2] + "." + m[3]
}

// parseLine splits one reply line into its code and whether more lines
// follow. It returns ok=false for a line that is not a reply line.
func parseLine(l string) (code int, more bool, ok bool) {
	if len(l) < 3 {
		return 0, false, false
	}
	// RFC 5321 §4.2: first digit 2..5, second 0..5, third 0..9.
	if l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' || l[2] < '0' || l[2] > '9' {
		return 0, false, false
	}
	code = int(l[0]-'0')*100 + int(l[1]-'0')*10 + int(l[2]-'0')
	if len(l) == 3 {
		return code, false, true // a bare code: allowed for the last line
	}
	switch l[3] {
	case '-':
		return code, true, true
	case ' ':
		return code, false, true
	}
	return 0, false, false
}

// Extension is one service extension named in the EHLO reply (RFC 5321
// §4.1.1.1): a keyword and its parameters. The keyword is upper-cased for
// comparison; Raw keeps the line as received (some servers send lowercase).
type Extension struct {
	Keyword string   `json:"keyword"`
	Params  []string `json:"params,omitempty"`
	Raw     string   `json:"raw"`
}

// Extensions is the parsed EHLO reply.
type Extensions []Extension

// parseExtensions reads the EHLO reply: the first line is the server's
// name and greeting, every further line an extension.
func parseExtensions(r *Reply) Extensions {
	if r == nil || r.Code != 250 {
		return nil
	}
	var out Extensions
	for i, t := range r.TextLines() {
		if i == 0 {
			continue
		}
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		out = append(out, Extension{Keyword: strings.ToUpper(f[0]), Params: f[1:], Raw: t})
	}
	return out
}

// Has reports whether the extension is offered.
func (e Extensions) Has(keyword string) bool {
	_, ok := e.Get(keyword)
	return ok
}

// Get returns the extension with the keyword (case-insensitive).
func (e Extensions) Get(keyword string) (Extension, bool) {
	keyword = strings.ToUpper(keyword)
	for _, x := range e {
		if x.Keyword == keyword {
			return x, true
		}
	}
	return Extension{}, false
}

// Size is the SIZE limit in octets (RFC 1870); ok=false when SIZE is not
// offered; 0 means "no fixed limit".
func (e Extensions) Size() (int64, bool) {
	x, ok := e.Get("SIZE")
	if !ok {
		return 0, false
	}
	if len(x.Params) == 0 {
		return 0, true
	}
	n, err := strconv.ParseInt(x.Params[0], 10, 64)
	if err != nil || n < 0 {
		return 0, true
	}
	return n, true
}

// AuthMechanisms lists the SASL mechanisms of AUTH (RFC 4954), including
// the pre-standard "AUTH=" form some servers still send.
func (e Extensions) AuthMechanisms() []string {
	var mechs []string
	for _, x := range e {
		switch {
		case x.Keyword == "AUTH":
			mechs = append(mechs, x.Params...)
		case strings.HasPrefix(x.Keyword, "AUTH="):
			mechs = append(mechs, strings.TrimPrefix(x.Keyword, "AUTH="))
			mechs = append(mechs, x.Params...)
		}
	}
	return mechs
}

// Keywords lists the extension keywords in order.
func (e Extensions) Keywords() []string {
	out := make([]string, len(e))
	for i, x := range e {
		out[i] = x.Keyword
	}
	return out
}
