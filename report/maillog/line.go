package maillog

// The prefixes that carry a log line's time, host and program.

import (
	"bytes"
	"strconv"
	"time"
)

// logLine is one line split into its prefix and its message. The byte
// slices point into the line being read: they are valid until the next
// line.
type logLine struct {
	stamp []byte // the timestamp as written ("" when the line has none)
	host  []byte // the logging host (syslog HOSTNAME)
	tag   []byte // the program: "postfix/smtpd", "exim4", "sm-mta" ("" for Exim's own log)
	msg   []byte // the message after "tag[pid]: "
	exim  bool   // Exim's main log: a date, then the message
}

// splitLine reads the prefix of a line. ok is false for lines without a
// prefix this package knows (and for journalctl's "-- … --" markers).
func splitLine(b []byte) (l logLine, ok bool) {
	if len(b) < 16 || bytes.HasPrefix(b, []byte("-- ")) {
		return l, false
	}
	b = skipPRI(b)
	switch {
	case len(b) > 2 && b[0] == '1' && b[1] == ' ':
		return split5424(b[2:])
	case isMonth(b):
		return split3164(b)
	case isDate(b) && len(b) > 19 && b[10] == 'T':
		// RFC 3339 (rsyslog's file format, journalctl -o short-iso).
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return l, false
		}
		l.stamp = b[:sp]
		return splitHostTag(l, b[sp+1:])
	case isDate(b) && len(b) > 19 && b[10] == ' ':
		return splitExim(b)
	case len(b) > 4+19+1 && b[3] == ' ' && isDate(b[4:]) && b[4+19] == ' ':
		// journalctl -o short-full: "Wed 2024-05-01 10:00:00 CEST host tag: msg".
		rest := b[4+19+1:] // the time zone, then the host
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return l, false
		}
		l.stamp = b[:4+19+1+sp]
		return splitHostTag(l, rest[sp+1:])
	case isUnixStamp(b):
		sp := bytes.IndexByte(b, ' ')
		l.stamp = b[:sp]
		return splitHostTag(l, b[sp+1:])
	}
	return l, false
}

// skipPRI drops a leading "<PRI>" (RFC 5424 §6.2.1, RFC 3164 §4.1.1).
func skipPRI(b []byte) []byte {
	if len(b) > 3 && b[0] == '<' {
		for i := 1; i < len(b) && i <= 4; i++ {
			if b[i] == '>' && i > 1 {
				return b[i+1:]
			}
			if b[i] < '0' || b[i] > '9' {
				break
			}
		}
	}
	return b
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func isMonth(b []byte) bool {
	if len(b) < 16 || b[3] != ' ' {
		return false
	}
	for _, m := range months {
		if string(b[:3]) == m {
			return true
		}
	}
	return false
}

func isDate(b []byte) bool {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

func isUnixStamp(b []byte) bool {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i < 9 || i > 11 || i >= len(b) {
		return false
	}
	if b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i < len(b) && b[i] == ' '
}

// split3164: "Mmm dd hh:mm:ss[.ffffff] host tag[pid]: msg" (the day may be
// space-padded: "May  1").
func split3164(b []byte) (logLine, bool) {
	var l logLine
	i := 4
	for i < len(b) && b[i] == ' ' {
		i++
	}
	sp := bytes.IndexByte(b[i:], ' ') // after the day
	if sp < 0 {
		return l, false
	}
	j := i + sp + 1
	sp = bytes.IndexByte(b[j:], ' ') // after the time
	if sp < 0 || sp < 8 {
		return l, false
	}
	l.stamp = b[:j+sp]
	return splitHostTag(l, b[j+sp+1:])
}

// splitHostTag reads "host tag[pid]: msg" or "host tag: msg".
func splitHostTag(l logLine, b []byte) (logLine, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return l, false
	}
	l.host = b[:sp]
	b = b[sp+1:]
	end := 0
	for end < len(b) && tagByte(b[end]) {
		end++
	}
	if end == 0 || end >= len(b) {
		return l, false
	}
	l.tag = b[:end]
	rest := b[end:]
	if rest[0] == '[' {
		k := bytes.IndexByte(rest, ']')
		if k < 0 {
			return l, false
		}
		rest = rest[k+1:]
	}
	if len(rest) < 2 || rest[0] != ':' || rest[1] != ' ' {
		return l, false
	}
	l.msg = rest[2:]
	return l, true
}

func tagByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.'
}

// split5424: "TIMESTAMP HOST APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]"
// (RFC 5424 §6; "-" is the nil value).
func split5424(b []byte) (logLine, bool) {
	var l logLine
	var f [5][]byte
	for i := range f {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			return l, false
		}
		f[i], b = b[:sp], b[sp+1:]
	}
	l.stamp, l.host, l.tag = f[0], f[1], f[2]
	if string(l.stamp) == "-" {
		l.stamp = nil
	}
	// STRUCTURED-DATA: "-" or one or more "[…]" elements, where "]" may be
	// escaped inside values (§6.3.3).
	switch {
	case len(b) > 0 && b[0] == '-':
		b = b[1:]
	case len(b) > 0 && b[0] == '[':
		esc, inElem := false, false
		i := 0
		for ; i < len(b); i++ {
			c := b[i]
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '[':
				inElem = true
			case c == ']':
				inElem = false
			case c == ' ' && !inElem:
				goto done
			}
		}
	done:
		b = b[i:]
	default:
		return l, false
	}
	b = bytes.TrimPrefix(b, []byte(" "))
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // the BOM of a UTF-8 MSG (§6.4)
	l.msg = b
	return l, len(l.tag) > 0 && string(l.tag) != "-"
}

// splitExim: Exim's main log, "YYYY-MM-DD hh:mm:ss[.ddd] [±hhmm] [[pid]] msg".
func splitExim(b []byte) (logLine, bool) {
	l := logLine{exim: true}
	i := 19
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	l.stamp = b[:i]
	rest := bytes.TrimLeft(b[i:], " ")
	if len(rest) > 5 && (rest[0] == '+' || rest[0] == '-') && allDigits(rest[1:5]) && (len(rest) == 5 || rest[5] == ' ') {
		l.stamp = b[:len(b)-len(rest)+5]
		rest = bytes.TrimLeft(rest[5:], " ")
	}
	if len(rest) > 0 && rest[0] == '[' {
		if k := bytes.IndexByte(rest, ']'); k > 0 && allDigits(rest[1:k]) {
			rest = bytes.TrimLeft(rest[k+1:], " ")
		}
	}
	l.msg = rest
	return l, len(rest) > 0
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// stampClock resolves timestamps. Syslog's RFC 3164 stamps carry no year:
// it is taken from the line before (the year that puts the stamp nearest
// to it, so a log running from December into January turns the year), or,
// before any dated line, from now (the year that does not put the line
// more than a day in the future).
type stampClock struct {
	now  time.Time
	prev time.Time // the last stamp resolved; zero before the first
}

// parse reads a timestamp; the zero time means it was not understood.
func (c *stampClock) parse(s []byte) time.Time {
	t, yearless := parseStamp(s)
	if t.IsZero() {
		return t
	}
	if yearless {
		t = c.placeYear(t)
	}
	c.prev = t
	return t
}

func (c *stampClock) placeYear(t time.Time) time.Time {
	at := func(y int) time.Time {
		return time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), c.now.Location())
	}
	if c.prev.IsZero() {
		r := at(c.now.Year())
		if r.After(c.now.Add(24 * time.Hour)) {
			r = at(c.now.Year() - 1)
		}
		return r
	}
	best := at(c.prev.Year())
	for _, y := range []int{c.prev.Year() - 1, c.prev.Year() + 1} {
		if r := at(y); absDuration(r.Sub(c.prev)) < absDuration(best.Sub(c.prev)) {
			best = r
		}
	}
	return best
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// parseStamp reads a timestamp in one of the layouts; yearless reports an
// RFC 3164 stamp (its year is 0).
func parseStamp(s []byte) (t time.Time, yearless bool) {
	str := string(s)
	for _, layout := range stampLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			return t, t.Year() == 0
		}
	}
	if isUnixStamp(append(s[:len(s):len(s)], ' ')) {
		sec, frac, _ := bytes.Cut(s, []byte("."))
		n, _ := strconv.ParseInt(string(sec), 10, 64)
		ns := int64(0)
		if len(frac) > 0 {
			f, _ := strconv.ParseFloat("0."+string(frac), 64)
			ns = int64(f * 1e9)
		}
		return time.Unix(n, ns).UTC(), false
	}
	return time.Time{}, false
}

var stampLayouts = []string{
	"Jan _2 15:04:05", "Jan _2 15:04:05.999999999",
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700",
	"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05.999999999 -0700",
	"Mon 2006-01-02 15:04:05 MST",
}
