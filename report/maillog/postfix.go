package maillog

// Postfix's log lines, as its daemons write them (smtpd(8), postscreen(8),
// cleanup(8), smtp(8), local(8), qmgr(8); the "reject:" wording is
// smtpd_check.c's, the delivery wording is the log of every delivery
// agent: "to=<…>, relay=…, delay=…, delays=…, dsn=…, status=… (text)").
//
//	smtpd:     NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 …; from=<s> to=<r> proto=ESMTP helo=<h>
//	postscreen: NOQUEUE: reject: RCPT from [ip]:port: 550 5.7.1 …; from=<s>, to=<r>, proto=ESMTP, helo=<h>
//	cleanup:   QID: reject: header Subject: … from host[ip]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text
//	milters:   QID: milter-reject: END-OF-MESSAGE from host[ip]: 5.7.1 text; from=<s> to=<r> proto=ESMTP helo=<h>
//	smtp:      QID: to=<r>, relay=mx[ip]:25, delay=1, delays=…, dsn=5.1.1, status=bounced (host mx[ip] said: 550 … (in reply to RCPT TO command))
//	qmgr:      QID: from=<s>, size=1234, nrcpt=2 (queue active)
//	qmgr:      QID: from=<s>, status=expired, returned to sender
//
// The text in the status parentheses says where the delivery failed:
// "host X said: … (in reply to C command)", "host X refused to talk to me:
// …" (the greeting), "connect to X: …", "lost connection with X while …",
// "conversation with X timed out while …", TLS failures, DNS failures.

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/report/catalog"
)

// postfixDaemons are the Postfix programs whose lines matter here (the
// last component of the syslog tag: "postfix/smtpd", "postfix-out/smtp",
// "postfix/submission/smtpd").
var postfixDaemons = map[string]bool{
	"smtpd": true, "postscreen": true, "cleanup": true, "smtp": true, "lmtp": true, "local": true,
	"virtual": true, "pipe": true, "error": true, "discard": true, "qmgr": true, "bounce": true,
	"pickup": true, "master": true, "anvil": true, "scache": true, "tlsmgr": true, "postfix-script": true,
	"postlogd": true, "trivial-rewrite": true, "verify": true, "proxymap": true, "showq": true, "postdrop": true,
	"sendmail": true, "dnsblog": true, "tlsproxy": true, "flush": true, "oqmgr": true, "relay": true,
}

// postfixDaemon returns the Postfix program a tag names ("" if none).
func postfixDaemon(tag []byte) string {
	k := bytes.LastIndexByte(tag, '/')
	if k < 0 {
		return ""
	}
	d := tag[k+1:]
	if postfixDaemons[string(d)] {
		return string(d)
	}
	return ""
}

// postfixLine reads one Postfix message. daemon "" means the message had
// no syslog tag (a pasted line): its shape decides.
func (s *Scanner) postfixLine(daemon string, msg []byte) *parsed {
	qid, rest, ok := bytes.Cut(msg, []byte(": "))
	if !ok || len(qid) == 0 || len(qid) > 32 || bytes.IndexByte(qid, ' ') >= 0 {
		return nil
	}
	switch {
	case bytes.HasPrefix(rest, []byte("reject: ")):
		return postfixReject(string(qid), rest[len("reject: "):])
	case bytes.HasPrefix(rest, []byte("milter-reject: ")):
		return postfixReject(string(qid), rest[len("milter-reject: "):])
	case bytes.HasPrefix(rest, []byte("to=<")):
		if daemon == "" || daemon == "smtp" || daemon == "lmtp" || daemon == "local" || daemon == "virtual" ||
			daemon == "pipe" || daemon == "error" || daemon == "relay" {
			return s.postfixDelivery(daemon, string(qid), rest)
		}
	case bytes.HasPrefix(rest, []byte("from=<")) && (daemon == "qmgr" || daemon == "oqmgr" || daemon == ""):
		return s.postfixQmgr(string(qid), rest)
	case string(rest) == "removed":
		s.queue.forget("postfix", string(qid))
	}
	return nil
}

// postfixReject reads "VERB from CLIENT: reply; from=<s> to=<r> …" and the
// header/body check form "header NAME: … from CLIENT; from=<s> to=<r> …:
// reply".
func postfixReject(qid string, b []byte) *parsed {
	p := &parsed{mta: "postfix", direction: Inbound, action: ActionRejected, haveSender: true}
	if qid != "NOQUEUE" {
		p.queueID = qid
	}
	verb, _, _ := bytes.Cut(b, []byte(" "))
	p.stage = postfixVerbStage(string(verb))
	var reply, trailer []byte
	if string(verb) == "header" || string(verb) == "body" {
		// The checked text comes first, the reply after the trailer.
		i := bytes.LastIndex(b, []byte("; from=<"))
		if i < 0 {
			return nil
		}
		j := bytes.Index(b[i:], []byte(">: "))
		k := bytes.LastIndex(b[:i], []byte(" from "))
		if j < 0 || k < 0 {
			return nil
		}
		p.remoteHost, p.remoteIP = splitClient(b[k+len(" from ") : i])
		trailer, reply = b[i+2:i+j+1], b[i+j+3:]
	} else {
		from := bytes.Index(b, []byte(" from "))
		if from < 0 {
			return nil
		}
		rest := b[from+len(" from "):]
		c := bytes.Index(rest, []byte(": "))
		if c < 0 {
			return nil
		}
		p.remoteHost, p.remoteIP = splitClient(rest[:c])
		reply = rest[c+2:]
		// The trailer starts at the last "; from=<" (postscreen separates
		// its fields with commas), or "; proto=" for CONNECT and EHLO.
		if i := bytes.LastIndex(reply, []byte("; from=<")); i >= 0 {
			reply, trailer = reply[:i], reply[i+2:]
		} else if i := bytes.LastIndex(reply, []byte("; proto=")); i >= 0 {
			reply, trailer = reply[:i], reply[i+2:]
		}
	}
	p.sender = angleField(trailer, "from=<")
	if r := angleField(trailer, "to=<"); r != "" {
		p.recipients = []string{r}
	}
	p.text = string(reply)
	p.code, p.enhanced = leadingCodes(p.text)
	return p
}

// postfixVerbStage maps smtpd's "reject: VERB from" to the stage.
func postfixVerbStage(verb string) catalog.Stage {
	switch verb {
	case "CONNECT":
		return catalog.StageConnect
	case "EHLO", "HELO":
		return catalog.StageEHLO
	case "STARTTLS":
		return catalog.StageSTARTTLS
	case "AUTH":
		return catalog.StageAUTH
	case "MAIL":
		return catalog.StageMAIL
	case "RCPT":
		return catalog.StageRCPT
	case "DATA", "END-OF-MESSAGE", "BDAT", "header", "body":
		return catalog.StageDATA
	case "VRFY":
		return catalog.StageVRFY
	}
	return catalog.StageUnknown
}

// postfixDelivery reads a delivery agent's "to=<r>, relay=…, dsn=…,
// status=S (text)". Successful deliveries are not events.
func (s *Scanner) postfixDelivery(daemon, qid string, b []byte) *parsed {
	si := bytes.Index(b, []byte("status="))
	if si < 0 {
		return nil
	}
	status := b[si+len("status="):]
	word := status
	if sp := bytes.IndexAny(word, " ,"); sp >= 0 {
		word = word[:sp]
	}
	p := &parsed{mta: "postfix", queueID: qid, direction: Outbound}
	switch string(word) {
	case "bounced", "undeliverable":
		p.action = ActionBounced
	case "deferred":
		p.action = ActionDeferred
	case "expired":
		p.action = ActionExpired
	default: // sent, deliverable, …
		s.queue.delivered("postfix", qid, angleField(b, "to=<"))
		return nil
	}
	if daemon != "smtp" && daemon != "lmtp" && daemon != "relay" && daemon != "" {
		p.direction = Local
	}
	p.recipients = []string{angleField(b, "to=<")}
	p.dsn = commaField(b, "dsn=")
	relay := commaField(b, "relay=")
	if relay != "none" && relay != "local" && relay != "virtual" {
		p.remoteHost, p.remoteIP = splitClient([]byte(relay))
	}
	text := ""
	if o := bytes.IndexByte(status, '('); o >= 0 {
		if c := bytes.LastIndexByte(status, ')'); c > o {
			text = string(status[o+1 : c])
		}
	}
	postfixStatusText(p, text)
	if daemon == "" && p.direction == Outbound && p.remoteHost == "" && strings.HasPrefix(relay, "local") {
		p.direction = Local
	}
	return p
}

// postfixStatusText finds the reply, its stage and the remote host in the
// text of a status line.
func postfixStatusText(p *parsed, text string) {
	text = strings.TrimPrefix(text, "delivery temporarily suspended: ")
	p.stage = catalog.StageUnknown
	switch {
	case strings.HasPrefix(text, "host ") && strings.Contains(text[len("host "):], " said: "):
		i := len("host ") + strings.Index(text[len("host "):], " said: ")
		host, reply := text[len("host "):i], text[i+len(" said: "):]
		if p.remoteHost == "" {
			p.remoteHost, p.remoteIP = splitClient([]byte(host))
		}
		if j := strings.LastIndex(reply, " (in reply to "); j >= 0 {
			p.stage = commandStage(reply[j+len(" (in reply to "):])
			reply = reply[:j]
		}
		p.text = reply
		p.code, p.enhanced = leadingCodes(reply)
	case strings.HasPrefix(text, "host ") && strings.Contains(text[len("host "):], " refused to talk to me: "):
		i := strings.Index(text, " refused to talk to me: ")
		p.text = text[i+len(" refused to talk to me: "):]
		p.stage = catalog.StageConnect
		p.code, p.enhanced = leadingCodes(p.text)
	case strings.HasPrefix(text, "connect to "):
		// "connect to mx.example[192.0.2.1]:25: Connection timed out":
		// relay=none, so the host is named only here.
		p.text, p.stage = text, catalog.StageConnect
		postfixTextHost(p, text[len("connect to "):], ":")
	case strings.HasPrefix(text, "lost connection with "), strings.HasPrefix(text, "conversation with "):
		p.text = text
		_, rest, _ := strings.Cut(text, " with ")
		postfixTextHost(p, rest, " ")
		if j := strings.Index(text, " while "); j >= 0 {
			p.stage = postfixWhileStage(text[j+len(" while "):])
		}
	case strings.Contains(text, "TLS"):
		p.text, p.stage = text, catalog.StageSTARTTLS
	default:
		p.text = text
		p.code, p.enhanced = leadingCodes(text)
	}
}

// postfixTextHost takes the remote host from "host[ip]" at the start of
// s, up to the first sep after the closing bracket, when the status line's
// relay= did not name it.
func postfixTextHost(p *parsed, s, sep string) {
	if p.remoteHost != "" {
		return
	}
	end := strings.IndexByte(s, ']')
	if end < 0 || !strings.Contains(s[:end], "[") {
		return
	}
	host := s[:end+1]
	if rest := s[end+1:]; sep != "" && !strings.HasPrefix(rest, sep) && rest != "" {
		return
	}
	p.remoteHost, p.remoteIP = splitClient([]byte(host))
}

// commandStage reads "RCPT TO command)" and the like.
func commandStage(s string) catalog.Stage {
	s = strings.TrimSuffix(strings.TrimSuffix(s, ")"), " command")
	switch {
	case strings.HasPrefix(s, "RCPT"):
		return catalog.StageRCPT
	case strings.HasPrefix(s, "MAIL"):
		return catalog.StageMAIL
	case strings.HasPrefix(s, "end of DATA"), strings.HasPrefix(s, "DATA"), strings.HasPrefix(s, "BDAT"), strings.HasPrefix(s, "end of data"):
		return catalog.StageDATA
	case strings.HasPrefix(s, "EHLO"), strings.HasPrefix(s, "HELO"), strings.HasPrefix(s, "LHLO"):
		return catalog.StageEHLO
	case strings.HasPrefix(s, "STARTTLS"):
		return catalog.StageSTARTTLS
	case strings.HasPrefix(s, "AUTH"):
		return catalog.StageAUTH
	case strings.HasPrefix(s, "initial"):
		return catalog.StageConnect
	}
	return catalog.StageUnknown
}

// postfixWhileStage reads smtp(8)'s "while …" phrases.
func postfixWhileStage(s string) catalog.Stage {
	switch {
	case strings.HasPrefix(s, "receiving the initial server greeting"):
		return catalog.StageConnect
	case strings.HasPrefix(s, "performing the EHLO handshake"), strings.HasPrefix(s, "performing the HELO handshake"),
		strings.HasPrefix(s, "performing the LHLO handshake"):
		return catalog.StageEHLO
	case strings.HasPrefix(s, "sending MAIL FROM"):
		return catalog.StageMAIL
	case strings.HasPrefix(s, "sending RCPT TO"):
		return catalog.StageRCPT
	case strings.HasPrefix(s, "sending message body"), strings.HasPrefix(s, "sending end of data"),
		strings.HasPrefix(s, "sending DATA"), strings.HasPrefix(s, "sending BDAT"):
		return catalog.StageDATA
	case strings.HasPrefix(s, "performing the STARTTLS"), strings.HasPrefix(s, "sending STARTTLS"):
		return catalog.StageSTARTTLS
	}
	return catalog.StageUnknown
}

// postfixQmgr reads the sender of a queued message, and the expiry of a
// message whose recipients stayed deferred.
func (s *Scanner) postfixQmgr(qid string, b []byte) *parsed {
	sender := angleField(b, "from=<")
	if bytes.Contains(b, []byte("status=expired")) {
		s.expire("postfix", qid, sender)
		return nil
	}
	s.queue.setSender("postfix", qid, sender)
	return nil
}

// splitClient reads "host[ip]", "host[ip]:port", "[ip]:port", "host [ip]".
func splitClient(b []byte) (host, ip string) {
	o := bytes.IndexByte(b, '[')
	c := bytes.LastIndexByte(b, ']')
	if o < 0 || c < o {
		return strings.TrimSpace(string(b)), ""
	}
	host = strings.TrimSpace(string(b[:o]))
	ip = string(b[o+1 : c])
	ip = strings.TrimPrefix(strings.TrimPrefix(ip, "IPv6:"), "ipv6:")
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.Unmap().String()
	} else {
		ip = "" // "private/dovecot-lmtp": a socket, not an address
	}
	if host == "unknown" {
		host = ""
	}
	return strings.TrimSuffix(host, "."), ip
}

// angleField returns the address in "name=<address>" ("" when absent or
// the null address).
func angleField(b []byte, name string) string {
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return ""
	}
	rest := b[i+len(name):]
	j := bytes.IndexByte(rest, '>')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// commaField returns the value of "name=value," (up to a comma or space).
func commaField(b []byte, name string) string {
	i := bytes.Index(b, []byte(name))
	if i < 0 || (i > 0 && b[i-1] != ' ' && b[i-1] != ',') {
		return ""
	}
	rest := b[i+len(name):]
	if j := bytes.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	return string(rest)
}

// leadingCodes reads the basic and enhanced code a reply starts with:
// "550 5.1.1 …", "550-5.7.1 …", "5.7.1 …" (a milter reply without the basic
// code), "550 …".
func leadingCodes(s string) (code int, enhanced string) {
	s = strings.TrimLeft(s, " #")
	if len(s) >= 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && (len(s) == 3 || s[3] == ' ' || s[3] == '-') &&
		(s[0] == '2' || s[0] == '4' || s[0] == '5') {
		code = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
		if len(s) == 3 {
			return code, ""
		}
		s = strings.TrimLeft(s[4:], " #")
	}
	end := 0
	for end < len(s) && (isDigit(s[end]) || s[end] == '.') {
		end++
	}
	if cand := s[:end]; validStatus(cand, code) && (end == len(s) || s[end] == ' ' || s[end] == ':' || s[end] == ',') {
		enhanced = cand
	}
	return code, enhanced
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
