package maillog

import (
	"fmt"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	var syslog strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&syslog, "Jun  7 19:%02d:01 mx1 CRON[%d]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n", i%60, 1000+i)
	}
	quiet := syslog.String()
	fmt.Fprintf(&syslog, "Jun  7 20:01:02 mx1 postfix/smtpd[2561]: NOQUEUE: reject: RCPT from relay.example.net[192.0.2.29]: 554 5.7.1 Service unavailable; Client host [192.0.2.29] blocked using zen.spamhaus.org; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<relay.example.net>\n")
	for _, tc := range []struct {
		name, in string
		log      bool
	}{
		{"a system log whose mail lines come after 60 other lines", syslog.String(), true},
		{"a system log without mail lines (yet)", quiet, true},
		{"one postfix line", "Jun  7 20:01:02 mx1 postfix/smtp[1]: 0ABC: to=<b@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command))\n", true},
		{"a pasted reply", "550 5.1.1 <b@example.org>: Recipient address rejected: User unknown\n", false},
		{"a message", "From: MAILER-DAEMON@example.org\nTo: a@example.net\nSubject: Undelivered Mail Returned to Sender\n\nThis is the mail system at host example.org.\n", false},
		{"prose with one log line", strings.Repeat("some words of an email someone pasted here\n", 20) + "Jun  7 20:01:02 mx1 CRON[1]: x\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff([]byte(tc.in)); got != tc.log {
				t.Errorf("Sniff = %v, want %v", got, tc.log)
			}
		})
	}
}
