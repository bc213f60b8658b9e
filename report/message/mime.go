package message

// A bounded, tolerant MIME reader for the messages users paste into
// `mxray explain`: bounces, delivery status notifications, feedback reports.
//
// Bounces are produced by every kind of software, much of it old, and are
// often malformed: header lines without a colon, a multipart body whose
// closing boundary is missing, a charset label nobody registered. The parser
// therefore never gives up on a message: what it cannot decode it keeps as
// bytes. It is also fed hostile input (anyone can paste anything), so every
// dimension is capped: total size, header block size, nesting depth and the
// number of parts (Limits). The work is linear in the input size.
//
// Standards: RFC 5322 (message format, §2.2.3 header folding), RFC 2045
// (Content-Transfer-Encoding §6, quoted-printable §6.7, base64 §6.8),
// RFC 2046 §5.1 (multipart, boundaries), §5.2.1 (message/rfc822),
// RFC 2047 (encoded words in headers), RFC 6532 (UTF-8 headers).

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Limits bound the work done on one message.
type Limits struct {
	MaxSize        int // bytes of input considered; the rest is ignored (Truncated is set)
	MaxHeaderBytes int // bytes of one header block (the rest of the block is skipped)
	MaxHeaderLines int // fields in one header block
	MaxDepth       int // nesting of multipart / message/rfc822 parts
	MaxParts       int // parts in the whole tree
}

// DefaultLimits are generous for real bounces (a few hundred KB, a
// handful of parts, depth 3) and small enough that hostile input is cheap.
var DefaultLimits = Limits{
	MaxSize:        8 << 20,
	MaxHeaderBytes: 256 << 10,
	MaxHeaderLines: 2000,
	MaxDepth:       8,
	MaxParts:       200,
}

// HeaderField is one header field as it appeared, unfolded.
type HeaderField struct {
	Name  string // as written
	Value string // unfolded (RFC 5322 §2.2.3), raw: encoded words are not decoded
}

// Header is an ordered list of fields; lookups are case-insensitive.
type Header []HeaderField

// Get returns the value of the first field with the name, trimmed.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

// Values returns the trimmed values of every field with the name, in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, strings.TrimSpace(f.Value))
		}
	}
	return out
}

// Decoded returns the value of the field with RFC 2047 encoded words decoded
// (unknown charsets are left encoded).
func (h Header) Decoded(name string) string { return mimeDecodeHeader(h.Get(name)) }

// Part is one node of a MIME tree.
type Part struct {
	Header    Header
	MediaType string            // lower case, "text/plain" when absent (RFC 2045 §5.2)
	Params    map[string]string // Content-Type parameters
	Body      []byte            // transfer-decoded body (leaves and message/* parts)
	Children  []*Part           // parts of a multipart, or the one message of message/rfc822
	Depth     int
}

// Message is a parsed message and what the limits cut off.
type Message struct {
	Root      *Part
	Truncated bool // input longer than MaxSize
	Limited   bool // a depth, parts or header limit was hit somewhere
}

type mimeParser struct {
	lim   Limits
	parts int
	hit   bool
}

// ParseMessage parses raw as an RFC 5322 message with MIME structure. It
// never fails: a text without a header block becomes a text/plain part.
func ParseMessage(raw []byte, lim Limits) *Message {
	if lim.MaxSize <= 0 {
		lim = DefaultLimits
	}
	m := &Message{}
	if len(raw) > lim.MaxSize {
		raw, m.Truncated = raw[:lim.MaxSize], true
	}
	p := &mimeParser{lim: lim}
	m.Root = p.parse(mimeSkipMbox(raw), 0, "text/plain")
	m.Limited = p.hit
	return m
}

// mimeSkipMbox drops a leading "From sender date" envelope line (mbox format).
func mimeSkipMbox(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// parse reads a header block and the body that follows.
func (p *mimeParser) parse(raw []byte, depth int, defaultType string) *Part {
	p.parts++
	h, body := p.readHeader(raw)
	part := &Part{Header: h, Depth: depth}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || (err != nil && mt == "") {
		mt, params = defaultType, map[string]string{}
	}
	if params == nil {
		params = map[string]string{}
	}
	part.MediaType, part.Params = strings.ToLower(mt), params
	p.fill(part, body, depth)
	return part
}

// fill decodes a part's body and descends into its children.
func (p *mimeParser) fill(part *Part, body []byte, depth int) {
	mt := part.MediaType
	limitHit := depth+1 > p.lim.MaxDepth || p.parts >= p.lim.MaxParts
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		b := part.Params["boundary"]
		if b == "" || limitHit {
			if limitHit {
				p.hit = true
			}
			part.Body = body
			return
		}
		// RFC 2046 §5.1.5: the parts of multipart/digest default to message/rfc822.
		def := "text/plain"
		if mt == "multipart/digest" {
			def = "message/rfc822"
		}
		subs := mimeSplitMultipart(body, b)
		if len(subs) == 0 {
			// The declared boundary never occurs (a rewritten or anonymised
			// message): use the first delimiter-looking line that recurs.
			if g := mimeGuessBoundary(body); g != "" {
				subs = mimeSplitMultipart(body, g)
			}
		}
		if len(subs) == 0 {
			part.Body = body
			return
		}
		for _, sub := range subs {
			if p.parts >= p.lim.MaxParts {
				p.hit = true
				break
			}
			part.Children = append(part.Children, p.parse(sub, depth+1, def))
		}
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" || mt == "message/rfc822-headers":
		part.Body = mimeTransferDecode(part.Header.Get("Content-Transfer-Encoding"), body)
		if limitHit {
			p.hit = true
			return
		}
		if mt != "text/rfc822-headers" && mt != "message/rfc822-headers" {
			part.Children = append(part.Children, p.parse(part.Body, depth+1, "text/plain"))
		}
	default:
		part.Body = mimeTransferDecode(part.Header.Get("Content-Transfer-Encoding"), body)
	}
}

// readHeader reads a header block up to the first empty line (RFC 5322 §2.1)
// and unfolds continuation lines (§2.2.3). A line that is neither a field nor
// a continuation ends the header when it is the first line (the text has no
// header: a pasted body) and is skipped otherwise.
func (p *mimeParser) readHeader(raw []byte) (Header, []byte) {
	var h Header
	// The value being unfolded is built in a buffer (appending to a string
	// per continuation line would be quadratic on hostile input).
	var cur []byte
	flush := func() {
		if len(h) > 0 && cur != nil {
			h[len(h)-1].Value = string(cur)
		}
		cur = nil
	}
	rest := raw
	used := 0
	for len(rest) > 0 {
		line, next := mimeCutLine(rest)
		trimmed := bytes.TrimRight(line, "\r")
		if len(trimmed) == 0 {
			flush()
			return h, next
		}
		used += len(line)
		if used > p.lim.MaxHeaderBytes || len(h) >= p.lim.MaxHeaderLines {
			// Skip the rest of an oversized header block without keeping it.
			flush()
			p.hit = true
			for len(next) > 0 {
				l, n := mimeCutLine(next)
				next = n
				if len(bytes.TrimRight(l, "\r")) == 0 {
					break
				}
			}
			return h, next
		}
		if trimmed[0] == ' ' || trimmed[0] == '\t' {
			if len(h) == 0 {
				return nil, raw
			}
			// A field longer than 64 KiB is no header a mailer wrote;
			// keep its start.
			if len(cur) < 64<<10 {
				cur = append(append(cur, ' '), bytes.TrimSpace(trimmed)...)
			}
			rest = next
			continue
		}
		name, value, ok := bytes.Cut(trimmed, []byte(":"))
		if !ok || !mimeFieldName(name) {
			if len(h) == 0 {
				return nil, raw // not a header at all: the whole text is the body
			}
			rest = next
			continue
		}
		flush()
		h = append(h, HeaderField{Name: string(name)})
		cur = append([]byte{}, bytes.TrimSpace(value)...)
		rest = next
	}
	flush()
	return h, nil
}

func mimeFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 76 {
		return false
	}
	for _, c := range b {
		// RFC 5322 §2.2: printable US-ASCII except colon and space.
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func mimeCutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// mimeSplitMultipart cuts a multipart body at its boundary lines (RFC 2046
// §5.1.1). It tolerates a missing close delimiter and trailing white space
// after a boundary; the preamble and epilogue are dropped.
func mimeSplitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	pos := 0
	for pos <= len(body) {
		line, _ := mimeCutLine(body[pos:])
		next := pos + len(line) + 1
		t := bytes.TrimRight(line, " \t\r")
		if bytes.HasPrefix(t, delim) {
			tail := t[len(delim):]
			if len(tail) == 0 || bytes.Equal(tail, []byte("--")) {
				if start >= 0 {
					end := pos
					// The CRLF before a boundary belongs to the boundary.
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
				}
				if len(tail) == 2 {
					return parts
				}
				start = min(next, len(body))
			}
		}
		if next > len(body) {
			break
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// mimeGuessBoundary finds a line "--X" in the body whose delimiter occurs
// at least twice (RFC 2046 §5.1.1 delimiter syntax), for multiparts whose
// declared boundary does not match their body.
func mimeGuessBoundary(body []byte) string {
	rest := body
	tried := 0
	for n := 0; len(rest) > 0 && n < 5000 && tried < 8; n++ {
		line, next := mimeCutLine(rest)
		rest = next
		t := bytes.TrimRight(line, " \t\r")
		if len(t) < 4 || len(t) > 72 || !bytes.HasPrefix(t, []byte("--")) || bytes.IndexByte(t, ' ') >= 0 {
			continue
		}
		tried++ // each try scans the body: a handful at most
		cand := t[2:]
		if bytes.Count(body, append([]byte("\n--"), cand...)) >= 2 {
			return string(cand)
		}
	}
	return ""
}

// mimeTransferDecode undoes a Content-Transfer-Encoding (RFC 2045 §6). Broken
// encodings keep what could be decoded; unknown encodings keep the bytes.
func mimeTransferDecode(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(out) == 0 {
			return body
		}
		return out
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 { // a lone trailing sextet carries no byte
			clean = clean[:len(clean)-1]
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return out[:n]
	}
	return body
}

// Text returns the part's body as UTF-8: the charset parameter is honoured
// where golang.org/x/text knows it (ISO-2022-JP, Shift_JIS, EUC-JP,
// ISO-8859-x, windows-125x, KOI8, GB18030, Big5, UTF-16 …); a body in an
// unknown charset, or that fails to decode, is kept as its bytes with
// invalid UTF-8 replaced.
func (p *Part) Text() string {
	return mimeDecodeCharset(p.Params["charset"], p.Body)
}

func mimeCharset(name string) encoding.Encoding {
	name = strings.Trim(strings.ToLower(strings.TrimSpace(name)), `"'`)
	switch name {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unknown-8bit", "x-unknown", "8bit", "7bit":
		return nil
	case "utf-16":
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	}
	if e, err := htmlindex.Get(name); err == nil {
		return e
	}
	if e, err := ianaindex.MIME.Encoding(name); err == nil && e != nil {
		return e
	}
	return nil
}

func mimeDecodeCharset(charset string, b []byte) string {
	if mimeLooksISO2022(b) && charset == "" {
		charset = "iso-2022-jp" // common in Japanese bounces that forget the label
	}
	best := ""
	if e := mimeCharset(charset); e != nil {
		if out, _, err := transform.Bytes(e.NewDecoder(), b); err == nil {
			best = string(out)
			if !strings.ContainsRune(best, utf8.RuneError) || !mimeHighBytes(b) {
				return best
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	// Mislabelled 8-bit text (Japanese bounces often say ISO-2022-JP and
	// send EUC-JP or Shift_JIS): try those, keep the cleanest decoding.
	if best == "" {
		best = strings.ToValidUTF8(string(b), "\uFFFD")
	}
	for _, name := range []string{"euc-jp", "shift_jis"} {
		e := mimeCharset(name)
		if out, _, err := transform.Bytes(e.NewDecoder(), b); err == nil &&
			strings.Count(string(out), "\uFFFD") < strings.Count(best, "\uFFFD") {
			best = string(out)
		}
	}
	return best
}

func mimeHighBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// mimeLooksISO2022 reports an ISO-2022-JP escape sequence (ESC $ B / ESC $ @).
func mimeLooksISO2022(b []byte) bool {
	return bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@"))
}

var mimeWordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	e := mimeCharset(charset)
	if e == nil {
		return input, nil
	}
	return transform.NewReader(input, e.NewDecoder()), nil
}}

// mimeDecodeHeader decodes RFC 2047 encoded words; on error it keeps the raw value.
func mimeDecodeHeader(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	if d, err := mimeWordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// Walk calls fn for the part and every descendant, depth first, in order.
func (p *Part) Walk(fn func(*Part)) {
	if p == nil {
		return
	}
	fn(p)
	for _, c := range p.Children {
		c.Walk(fn)
	}
}
