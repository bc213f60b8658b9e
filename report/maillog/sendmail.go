package maillog

// Sendmail's log lines (sendmail(8) "Logging", the fields of deliver.c's
// logdelivery and of the check rulesets):
//
//	QID: from=<s>, size=1234, class=0, nrcpts=2, msgid=<…>, proto=ESMTP, daemon=MTA, relay=host [ip]
//	QID: to=<a@x>,<b@x>, ctladdr=<s> (1000/1000), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=…, relay=mx.x. [192.0.2.1], dsn=5.1.1, stat=User unknown
//	QID: to=<a@x>, delay=…, mailer=esmtp, relay=mx.x., dsn=4.0.0, stat=Deferred: Connection refused by mx.x.
//	QID: ruleset=check_rcpt, arg1=<a@x>, relay=client.y [192.0.2.9], reject=550 5.7.1 <a@x>... Relaying denied
//	QID: milter=name, action=data, reject=550 5.7.1 …
//
// One delivery line may name several recipients ("to=<a>,<b>"): each is
// an event. A successful delivery ("stat=Sent") is not.

import (
	"bytes"
	"strings"

	"github.com/mxray/mxray/report/catalog"
)

// isSendmailTag: sendmail's syslog names.
func isSendmailTag(tag []byte) bool {
	return string(tag) == "sendmail" || bytes.HasPrefix(tag, []byte("sm-mta")) || bytes.HasPrefix(tag, []byte("sm-msp"))
}

func (s *Scanner) sendmailLine(msg []byte) *parsed {
	qid := ""
	if q, rest, ok := bytes.Cut(msg, []byte(": ")); ok && len(q) > 0 && len(q) <= 32 && bytes.IndexByte(q, ' ') < 0 && bytes.IndexByte(q, '=') < 0 {
		qid, msg = string(q), rest
	}
	switch {
	case bytes.HasPrefix(msg, []byte("from=")) && qid != "":
		s.queue.setSender("sendmail", qid, sendmailAddr(commaField(msg, "from=")))
	case bytes.HasPrefix(msg, []byte("to=")) && bytes.Contains(msg, []byte("stat=")):
		return s.sendmailDelivery(qid, msg)
	case bytes.Contains(msg, []byte("reject=")) && (bytes.HasPrefix(msg, []byte("ruleset=")) || bytes.HasPrefix(msg, []byte("milter=")) || bytes.HasPrefix(msg, []byte("Milter"))):
		return sendmailReject(qid, msg)
	}
	return nil
}

func (s *Scanner) sendmailDelivery(qid string, b []byte) *parsed {
	si := bytes.Index(b, []byte("stat="))
	stat := string(b[si+len("stat="):])
	p := &parsed{mta: "sendmail", queueID: qid, direction: Outbound}
	p.dsn = commaField(b, "dsn=")
	switch {
	case strings.HasPrefix(stat, "Sent"), strings.HasPrefix(p.dsn, "2."):
		return nil
	case strings.HasPrefix(stat, "Deferred"), strings.HasPrefix(p.dsn, "4."):
		p.action = ActionDeferred
	default:
		p.action = ActionBounced
	}
	p.recipients = sendmailRecipients(b)
	if m := commaField(b, "mailer="); m == "local" || m == "prog" || strings.Contains(m, "file") {
		p.direction = Local
	}
	if r := sendmailRelay(b); r != "" {
		p.remoteHost, p.remoteIP = splitClient([]byte(r))
	}
	text := strings.TrimPrefix(strings.TrimPrefix(stat, "Deferred: "), "Deferred")
	p.text = strings.TrimSpace(text)
	if p.text == "" {
		p.text = stat
	}
	p.code, p.enhanced = leadingCodes(p.text)
	p.stage = catalog.StageUnknown
	return p
}

// sendmailRecipients splits "to=<a@x>,<b@x>, ctladdr=…" (the list ends at
// the ", " before the next field).
func sendmailRecipients(b []byte) []string {
	v := b[len("to="):]
	if e := bytes.Index(v, []byte(", ")); e >= 0 {
		v = v[:e]
	}
	var out []string
	for _, a := range bytes.Split(v, []byte(",")) {
		if a := sendmailAddr(string(a)); a != "" && len(out) < 1000 {
			out = append(out, a)
		}
	}
	return out
}

func sendmailAddr(a string) string {
	return strings.Trim(strings.TrimSpace(a), "<>\"")
}

// sendmailRelay returns the relay field, which holds a space: "relay=host. [ip]".
func sendmailRelay(b []byte) string {
	i := bytes.Index(b, []byte("relay="))
	if i < 0 {
		return ""
	}
	v := b[i+len("relay="):]
	if e := bytes.Index(v, []byte(", ")); e >= 0 {
		v = v[:e]
	}
	v = bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" (may be forged)"))
	return string(v)
}

// sendmailReject reads the check rulesets' and milters' refusals.
func sendmailReject(qid string, b []byte) *parsed {
	p := &parsed{mta: "sendmail", direction: Inbound, action: ActionRejected, haveSender: true}
	if qid != "NOQUEUE" {
		p.queueID = qid
	}
	rule := commaField(b, "ruleset=")
	arg := sendmailAddr(commaField(b, "arg1="))
	switch rule {
	case "check_relay":
		p.stage = catalog.StageConnect
	case "check_mail":
		p.stage, p.sender = catalog.StageMAIL, arg
	case "check_rcpt", "check_compat":
		p.stage = catalog.StageRCPT
		if arg != "" {
			p.recipients = []string{arg}
		}
	case "":
		p.stage = catalog.StageDATA // milters: "action=data"/"Milter: data"
	default:
		p.stage = catalog.StageUnknown
	}
	if r := sendmailRelay(b); r != "" {
		p.remoteHost, p.remoteIP = splitClient([]byte(r))
	}
	i := bytes.Index(b, []byte("reject="))
	p.text = string(b[i+len("reject="):])
	p.code, p.enhanced = leadingCodes(p.text)
	return p
}
