package maillog

// Exim's main log (Exim specification, chapter "Log files": "Logging
// message reception and delivery"). Each message line is a message id and
// a flag:
//
//	<= sender …           arrival (the sender of the message id)
//	** address … : text    delivery failed: the message returns to its sender
//	== address … : text    delivery deferred
//	=> -> *>               delivered (not events)
//
// and the receiving side's ACL refusals, with or without a message id:
//
//	H=host (helo) [ip] F=<sender> rejected RCPT <rcpt>: text
//	H=host [ip] F=<sender> temporarily rejected RCPT <rcpt>: text
//	H=host [ip] rejected EHLO or HELO name: text
//	H=host [ip] F=<sender> rejected after DATA: text
//	H=[ip] rejected connection in "connect" ACL: text
//
// Exim does not log the SMTP code of its own refusals; "temporarily"
// marks a 4xx. A remote server's reply is quoted after "SMTP error from
// remote mail server after COMMAND:".

import (
	"bytes"
	"strings"

	"github.com/mxray/mxray/report/catalog"
)

// isEximTag: Exim's syslog names ("exim", "exim4", "exim-4.97").
func isEximTag(tag []byte) bool {
	return bytes.HasPrefix(tag, []byte("exim"))
}

// eximID reports whether t is an Exim message id: 6-6-2 base-62 digits
// (up to 4.96) or 6-11-4 (4.97 and later).
func eximID(t []byte) bool {
	parts := bytes.Split(t, []byte("-"))
	if len(parts) != 3 || len(parts[0]) != 6 {
		return false
	}
	if !(len(parts[1]) == 6 && len(parts[2]) == 2) && !(len(parts[1]) == 11 && len(parts[2]) == 4) {
		return false
	}
	for _, p := range parts {
		for _, c := range p {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

func (s *Scanner) eximLine(msg []byte) *parsed {
	id := ""
	if sp := bytes.IndexByte(msg, ' '); sp > 0 && eximID(msg[:sp]) {
		id, msg = string(msg[:sp]), msg[sp+1:]
	}
	switch {
	case bytes.HasPrefix(msg, []byte("<= ")) && id != "":
		sender, _, _ := bytes.Cut(msg[3:], []byte(" "))
		if string(sender) == "<>" {
			sender = nil
		}
		s.queue.setSender("exim", id, string(sender))
	case bytes.HasPrefix(msg, []byte("** ")):
		return s.eximDelivery(id, ActionBounced, msg[3:])
	case bytes.HasPrefix(msg, []byte("== ")):
		return s.eximDelivery(id, ActionDeferred, msg[3:])
	case string(msg) == "Completed" && id != "":
		s.queue.forget("exim", id)
	case bytes.HasPrefix(msg, []byte("H=")) || bytes.HasPrefix(msg, []byte("rejected ")) || bytes.HasPrefix(msg, []byte("SMTP protocol")):
		return eximRejected(id, msg)
	}
	return nil
}

// eximDelivery reads "address [<orig>] [fields…]: text".
func (s *Scanner) eximDelivery(id, action string, b []byte) *parsed {
	p := &parsed{mta: "exim", queueID: id, action: action, direction: Outbound}
	addr, rest, _ := bytes.Cut(b, []byte(" "))
	if bytes.HasSuffix(addr, []byte(":")) { // "** a@b: Unrouteable address"
		addr = addr[:len(addr)-1]
		p.text = string(bytes.TrimSpace(rest))
	} else {
		fields, text := eximFields(rest)
		p.text = text
		if h := fields["H"]; h != "" {
			p.remoteHost, p.remoteIP = splitClient([]byte(h))
		}
		if t := fields["T"]; t != "" && !strings.Contains(t, "smtp") && fields["H"] == "" {
			p.direction = Local
		}
	}
	p.recipients = []string{strings.Trim(string(addr), "<>")}
	eximRemoteReply(p)
	if strings.Contains(p.text, "retry timeout exceeded") || strings.Contains(p.text, "after a long failure period") {
		// Exim's words for giving up at the end of its retry rules (spec,
		// "Retry configuration").
		p.action = ActionExpired
	}
	return p
}

// eximFields reads the "R=… T=… H=host [ip] X=…" fields before the ": "
// that starts the error text; values may be quoted.
func eximFields(b []byte) (map[string]string, string) {
	fields := map[string]string{}
	i := 0
	last := ""
	for i < len(b) {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		start := i
		if eq := bytes.IndexByte(b[i:], '='); eq > 0 && eq < 4 && isUpperKey(b[i:i+eq]) && i+eq+1 < len(b) && b[i+eq+1] == '"' {
			// A quoted value: DN="…", C="…".
			if q := bytes.IndexByte(b[i+eq+2:], '"'); q >= 0 {
				i = i + eq + 2 + q + 1
			} else {
				i = len(b)
			}
		} else {
			for i < len(b) && b[i] != ' ' {
				i++
			}
		}
		tok := b[start:i]
		end := bytes.HasSuffix(tok, []byte(":"))
		tok = bytes.TrimSuffix(tok, []byte(":"))
		if k, v, ok := bytes.Cut(tok, []byte("=")); ok && isUpperKey(k) {
			last = string(k)
			fields[last] = string(v)
		} else if len(tok) > 0 && tok[0] == '[' && last == "H" {
			fields["H"] += " " + string(tok) // "H=mx.example.net [192.0.2.1]"
		}
		if end {
			return fields, strings.TrimSpace(string(b[min(i+1, len(b)):]))
		}
	}
	return fields, ""
}

func isUpperKey(k []byte) bool {
	if len(k) == 0 || len(k) > 3 {
		return false
	}
	for _, c := range k {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// eximRemoteReply cuts the quoted reply out of "SMTP error from remote mail
// server after RCPT TO:<a>: 550 …" and reads its stage and codes.
func eximRemoteReply(p *parsed) {
	t := p.text
	const lead = "SMTP error from remote mail server after "
	i := strings.Index(t, lead)
	if i < 0 {
		if j := strings.Index(t, " after "); j >= 0 && strings.HasPrefix(t, "SMTP timeout") {
			p.stage = commandStage(strings.TrimPrefix(t[j+len(" after "):], "pipelined "))
		}
		p.code, p.enhanced = leadingCodes(t)
		return
	}
	cmd := strings.TrimPrefix(t[i+len(lead):], "pipelined ")
	p.stage = commandStage(cmd)
	end := -1
	if strings.HasPrefix(cmd, "RCPT TO:<") || strings.HasPrefix(cmd, "MAIL FROM:<") {
		if gt := strings.IndexByte(cmd, '>'); gt >= 0 {
			if c := strings.Index(cmd[gt:], ": "); c >= 0 {
				end = gt + c
			}
		}
	} else {
		end = strings.Index(cmd, ": ")
	}
	if end < 0 {
		return
	}
	reply := cmd[end+2:]
	// Older Exims name the host again: "host mx.example.net [192.0.2.1]: 550 …".
	if strings.HasPrefix(reply, "host ") {
		if k := strings.Index(reply, "]: "); k >= 0 {
			reply = reply[k+3:]
		}
	}
	p.text = reply
	p.code, p.enhanced = leadingCodes(reply)
}

// eximRejected reads the receiving side's ACL refusals.
func eximRejected(id string, b []byte) *parsed {
	k := bytes.Index(b, []byte("rejected "))
	if k < 0 {
		return nil
	}
	p := &parsed{mta: "exim", queueID: id, direction: Inbound, action: ActionRejected, haveSender: true}
	temporary := k >= len("temporarily ") && string(b[k-len("temporarily "):k]) == "temporarily "
	permanent := !temporary
	p.permanent = &permanent
	head := b[:k]
	if h := bytes.Index(head, []byte("H=")); h >= 0 {
		// "H=host (helo) [ip]:port I=… F=<s> "
		hv := head[h+2:]
		if e := bytes.Index(hv, []byte("]")); e >= 0 {
			hv = hv[:e+1]
		}
		host, ip := splitClient(hv)
		if o := strings.IndexByte(host, '('); o >= 0 {
			host = strings.TrimSpace(host[:o])
		}
		p.remoteHost, p.remoteIP = host, ip
	}
	p.sender = angleField(head, "F=<")
	rest := b[k+len("rejected "):]
	switch {
	case bytes.HasPrefix(rest, []byte("RCPT ")):
		p.stage = catalog.StageRCPT
		p.recipients = []string{angleField(rest, "RCPT <")}
	case bytes.HasPrefix(rest, []byte("MAIL ")):
		p.stage = catalog.StageMAIL
	case bytes.HasPrefix(rest, []byte("EHLO")), bytes.HasPrefix(rest, []byte("HELO")):
		p.stage = catalog.StageEHLO
	case bytes.HasPrefix(rest, []byte("after DATA")), bytes.HasPrefix(rest, []byte("DATA")):
		p.stage = catalog.StageDATA
	case bytes.HasPrefix(rest, []byte("connection")):
		p.stage = catalog.StageConnect
	case bytes.HasPrefix(rest, []byte("VRFY")):
		p.stage = catalog.StageVRFY
	default:
		p.stage = catalog.StageUnknown
	}
	if c := bytes.Index(rest, []byte(": ")); c >= 0 {
		p.text = string(rest[c+2:])
	}
	if p.text == "" {
		return nil
	}
	return p
}
