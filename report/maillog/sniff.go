package maillog

import "bytes"

// SniffSize is how much of the input Sniff wants to see.
const SniffSize = 64 << 10

// Sniff reports whether the start of an input (up to SniffSize) is a mail
// log: at least one line is a line of a known MTA and the others have log
// prefixes or are MTA lines too; or it is a system log — nearly every line
// has a syslog or journal prefix — whose mail lines come later (a whole
// /var/log/syslog, or unfiltered journalctl output, starts with other
// programs). A message (a header block) or a pasted reply is not a log.
func Sniff(head []byte) bool {
	s := NewScanner(bytes.NewReader(nil), Options{})
	mail, prefixed, other := 0, 0, 0
	for n := 0; len(head) > 0; {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		if bytes.HasPrefix(line, []byte("-- ")) { // journalctl markers
			prefixed++
			continue
		}
		before := s.stats.MailLines
		l, ok := splitLine(line)
		if ok {
			prefixed++
			s.classify(l)
		} else {
			s.bareLine(line)
		}
		if s.stats.MailLines > before {
			mail++
		} else if !ok {
			other++
		}
	}
	if mail > 0 && other <= prefixed+mail/2 {
		return true
	}
	lines := prefixed + other
	return lines >= 5 && prefixed*10 >= lines*9
}

// classify counts a prefixed line as an MTA line when its program is one.
func (s *Scanner) classify(l logLine) {
	if l.exim || postfixDaemon(l.tag) != "" || isEximTag(l.tag) || isSendmailTag(l.tag) {
		s.stats.MailLines++
	}
}
