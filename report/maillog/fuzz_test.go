package maillog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzScanner: any input is read to its end without a panic; every event
// it yields names its MTA, direction and action and keeps a line of the
// input; the stats add up.
func FuzzScanner(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Add([]byte("Mar  3 09:12:02 mail postfix/smtp[1]: Q: to=<a@b>, relay=x[1.2.3.4]:25, dsn=5.1.1, status=bounced (host x[1.2.3.4] said: 550 (in reply to RCPT TO command))\n"))
	f.Add([]byte("2024-05-02 11:00:01 1sAbCd-000Xyz-Q1 ** a@b R=r T=t H=\"x [y\": "))
	f.Add([]byte("<22>1 - - - - - [a=\"\\]\"] x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewScanner(bytes.NewReader(in), Options{MaxLineBytes: 1024, MaxQueueIDs: 8, MaxDeferred: 8})
		var gs Groups
		n := int64(0)
		err := s.Scan(func(ev *Event) error {
			n++
			gs.Add(ev)
			if ev.MTA == "" || ev.Direction == "" || ev.Action == "" || ev.Reason == "" || ev.LineNumber <= 0 {
				t.Fatalf("incomplete event %+v", ev)
			}
			if len(ev.Line) > maxLine || !bytes.Contains(in, []byte(ev.Line[:min(len(ev.Line), 64)])) {
				t.Fatalf("event line %q is not from the input", ev.Line)
			}
			_ = utf8.ValidString(ev.Reply)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Events != n || st.Bytes != int64(len(in)) {
			t.Fatalf("stats %+v, %d events, %d bytes", st, n, len(in))
		}
		for _, g := range gs.List() {
			_ = g.DetailLines()
		}
	})
}

// FuzzLineReaders: the prefix splitter and each MTA's reader take any
// line without a panic (the scanner runs them on every line of a log).
func FuzzLineReaders(f *testing.F) {
	f.Add([]byte("Mar  3 09:12:02 mail postfix/smtp[1]: Q: to=<a@b>, relay=x[1.2.3.4]:25, dsn=4.4.1, status=deferred (host x said: 450 y (in reply to RCPT TO command))"))
	f.Add([]byte("<22>1 2024-05-02T11:00:06.000Z mx postfix/smtpd 812 - - NOQUEUE: reject: RCPT from x[1.2.3.4]: 554 5.7.1 y; from=<a> to=<b> proto=ESMTP helo=<c>"))
	f.Add([]byte("Thu 2024-05-02 11:00:04 UTC mx postfix/cleanup[9]: Q: reject: header Subject: x from y[1.2.3.4]; from=<a> to=<b> proto=ESMTP helo=<c>: 5.7.1 z"))
	f.Add([]byte("2024-05-02 11:00:01 1sAbCd-000Xyz-Q1 ** a@b R=r T=t H=x [1.2.3.4] DN=\"q r\": SMTP error from remote mail server after RCPT TO:<a@b>: 550 x"))
	f.Add([]byte("2024-05-02 11:01:04 H=m [192.0.2.12] F=<x@y> temporarily rejected RCPT <s@o>: greylisted."))
	f.Add([]byte("May  2 12:00:02 mail sm-mta[3002]: Q: to=<b@x>,<c@x>, mailer=esmtp, relay=m. [192.0.2.25], dsn=5.1.1, stat=User unknown"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &Scanner{queue: newQueueState(8, 8)}
		if l, ok := splitLine(in); ok {
			s.clock.parse(l.stamp)
			for _, d := range []string{"smtpd", "smtp", "qmgr", "local", ""} {
				s.postfixLine(d, l.msg)
			}
			s.eximLine(l.msg)
			s.sendmailLine(l.msg)
			s.expire("postfix", "Q", "")
		}
		s.bareLine(in)
		s.eximLine(in)
		s.sendmailLine(in)
	})
}
