package message

import (
	"strings"
	"testing"

	"github.com/mxray/mxray/report/catalog"
)

// dsn builds a bounce with one delivery-status part of the given
// per-recipient groups and a human-readable part.
func dsn(human string, groups ...string) string {
	return "From: MAILER-DAEMON@mx.example.org\nTo: sender@example.org\nSubject: Delivery Status Notification\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n" +
		"--b\nContent-Type: text/plain\n\n" + human + "\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n" +
		strings.Join(groups, "\n\n") + "\n\n--b--\n"
}

// TestDecisionOrder: the rules that follow from the structure of a notice
// and the stage of a reply, each on a notice written for it.
func TestDecisionOrder(t *testing.T) {
	tests := []struct {
		name, msg string
		reasons   []string
	}{
		{"a failed DSN quoting a success reply is not delivered",
			dsn("Delivery failed.", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 250 2.0.0 Ok queued"),
			[]string{"mailboxfull"}},
		{"a failed DSN with a success reply and no status is on hold",
			dsn("Delivery failed.", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 2.0.0\nDiagnostic-Code: smtp; 250 2.0.0 Ok"),
			[]string{"onhold"}},
		{"a delivered DSN is delivered",
			dsn("Delivered.", "Final-Recipient: rfc822; a@example.net\nAction: delivered\nStatus: 2.0.0\nDiagnostic-Code: smtp; 250 2.0.0 Ok"),
			[]string{"delivered"}},
		{"an expiry notice takes the reason of the refusal it quotes",
			dsn("Delivery time expired.", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"),
			[]string{"blocked"}},
		{"an expiry notice quoting a full disk is systemfull",
			dsn("Delivery time expired.", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 452 4.3.1 Insufficient system storage"),
			[]string{"systemfull"}},
		{"an expiry notice quoting a connection timeout is expired",
			dsn("Delivery time expired.", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.1]:25: Connection timed out"),
			[]string{"expired"}},
		{"user unknown after DATA is filtered, at RCPT userunknown",
			dsn("<a@example.net>: host mx.example.net[192.0.2.1] said: 550 No such user here (in reply to end of DATA command)\n\n<b@example.net>: host mx.example.net[192.0.2.1] said: 550 No such user here (in reply to RCPT TO command)",
				"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 No such user here",
				"Final-Recipient: rfc822; b@example.net\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 No such user here"),
			[]string{"filtered", "userunknown"}},
		{"an X.1.1 status places a user-unknown reply at the address",
			dsn("failed", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 No such user here"),
			[]string{"userunknown"}},
		{"a reply without stage or address status that says user unknown is filtered",
			dsn("failed", "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 User unknown"),
			[]string{"filtered"}},
		{"unknown at MAIL FROM is the sender's",
			dsn("<a@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.0 Domain not found (in reply to MAIL FROM command)",
				"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.0\nDiagnostic-Code: smtp; 550 5.1.0 Domain not found"),
			[]string{"rejected"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := ExplainInput([]byte(tc.msg), ExplainOptions{})
			var got []string
			for _, r := range ex.Replies {
				got = append(got, r.Reason)
			}
			if strings.Join(got, " ") != strings.Join(tc.reasons, " ") {
				t.Errorf("reasons %q, want %q", got, tc.reasons)
				for _, r := range ex.Replies {
					t.Logf("%+v", r.Explanation)
				}
			}
		})
	}
}

// TestFeedbackReports: one answer per report and per reported recipient.
func TestFeedbackReports(t *testing.T) {
	report := func(rcpts ...string) string {
		s := "--r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"i\"\n\n--i\nContent-Type: text/plain\n\nThis is an abuse report.\n\n" +
			"--i\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: SomeGenerator/1.0\nVersion: 1\nSource-IP: 192.0.2.1\n"
		for _, r := range rcpts {
			s += "Original-Rcpt-To: <" + r + ">\n"
		}
		return s + "\n--i--\n"
	}
	msg := "From: fbl@provider.example\nTo: abuse@example.org\nSubject: Feedback reports\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"r\"\n\n" +
		report("a@provider.example") + report("b@provider.example", "c@provider.example") + "--r--\n"
	ex := ExplainInput([]byte(msg), ExplainOptions{})
	var got []string
	for _, r := range ex.Replies {
		if r.Reason != "feedback" || r.FeedbackType != "abuse" {
			t.Errorf("%+v", r)
		}
		got = append(got, r.Recipient)
	}
	if ex.Kind != "feedback" || strings.Join(got, " ") != "a@provider.example b@provider.example c@provider.example" {
		t.Errorf("kind %s, recipients %q", ex.Kind, got)
	}
}

// TestLoneReplyKeepsItsWords: a reply pasted on its own says nothing of the
// stage it came at, so a "no such user" is userunknown; the same words
// quoted by a delivery report that does not place them at RCPT TO are read
// the taxonomy's way (filtered), as TestDecisionOrder shows.
func TestLoneReplyKeepsItsWords(t *testing.T) {
	for _, text := range []string{"550 No such user here", "550 User unknown", "554 5.7.1 <a@example.net>: Recipient address rejected: Access denied"} {
		ex := ExplainText(text, ExplainOptions{})
		if len(ex.Replies) != 1 || ex.Replies[0].Reason != "userunknown" {
			t.Errorf("%q: %+v, want one userunknown", text, ex.Replies)
		}
	}
	ex := ExplainText("550 No such user here", ExplainOptions{Stage: catalog.StageDATA})
	if len(ex.Replies) != 1 || ex.Replies[0].Reason != "filtered" {
		t.Errorf("after DATA: %+v, want filtered", ex.Replies)
	}
}
