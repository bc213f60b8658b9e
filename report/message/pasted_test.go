package message

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mxray/mxray/report/catalog"
)

func TestFindReply(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		code     int
		enhanced string
		stage    catalog.Stage
		textHas  string
	}{
		{"single line", "550 5.1.1 <u@example.com>: Recipient address rejected: User unknown", 550, "5.1.1", catalog.StageUnknown, "User unknown"},
		{"multi-line reply", "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n550-5.7.26 sender and Gmail users, and has been blocked. The sender must\n550 5.7.26 authenticate with at least one of SPF or DKIM.", 550, "5.7.26", catalog.StageUnknown, "authenticate with at least one"},
		{"exim", "  u@example.ed.jp\n    SMTP error from remote mail server after MAIL FROM:<s@example.jp> SIZE=1543:\n    host mx.example.jp [192.0.2.20]: 550 5.7.0 Please use the smtp server of your ISP.", 550, "5.7.0", catalog.StageMAIL, "smtp server of your ISP"},
		{"exim after RCPT", "SMTP error from remote mail server after RCPT TO:<u@example.com>:\nhost mx.example.com [192.0.2.2]: 550 No such user", 550, "", catalog.StageRCPT, "No such user"},
		{"postfix bounce text", "<u@example.co.jp>: host mx01.example.co.jp[192.0.2.8] said:\n    550 5.1.1 Address rejected u@example.co.jp (in reply to\n    RCPT TO command)", 550, "5.1.1", catalog.StageRCPT, "Address rejected"},
		{"postfix end of data", "host mx[192.0.2.1] said: 554 5.7.1 spam (in reply to end of DATA command)", 554, "5.7.1", catalog.StageDATA, "spam"},
		{"exchange ndr", "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'", 550, "5.1.1", catalog.StageUnknown, "RecipNotFound"},
		{"exchange ndr hash", "Remote Server returned '< #5.1.1 smtp;550 5.1.1 User unknown>'", 550, "5.1.1", catalog.StageUnknown, "User unknown"},
		{"sendmail transcript", "... while talking to mx.example.jp.:\n>>> RCPT To:<u@example.jp>\n<<< 550 5.1.1 <u@example.jp>... User unknown\n550 5.1.1 <u@example.jp>... User unknown", 550, "5.1.1", catalog.StageRCPT, "User unknown"},
		{"sendmail transcript, 250 first", ">>> MAIL From:<s@example.jp>\n<<< 250 2.1.0 ok\n>>> DATA\n<<< 554 5.7.1 rejected as spam", 554, "5.7.1", catalog.StageDATA, "spam"},
		{"sendmail nested", "554 <u@example.or.jp>... 550 Host unknown (Authoritative answer from name server)", 550, "", catalog.StageUnknown, "Host unknown"},
		{"qmail helo", "Connected to 192.0.2.112 but my name was rejected.\nRemote host said: 501 5.0.0 Invalid domain name", 501, "5.0.0", catalog.StageEHLO, "Invalid domain name"},
		{"qmail sender", "Connected to 192.0.2.1 but sender was rejected.\nRemote host said: 553 sorry, your domain does not exist", 553, "", catalog.StageMAIL, "domain does not exist"},
		{"enhanced only", "#5.1.1 RESOLVER.ADR.RecipNotFound; not found", 0, "5.1.1", catalog.StageUnknown, "RecipNotFound"},
		{"no code", "The recipient mailbox is full", 0, "", catalog.StageUnknown, "mailbox is full"},
		{"IP is not an enhanced code", "Client host 5.1.1.4 rejected", 0, "", catalog.StageUnknown, "rejected"},
		{"class mismatch dropped", "550 4.7.1 odd", 550, "", catalog.StageUnknown, "odd"},
		{"inline reply", "220-laposte 421 4.2.1 Service refuse. Veuillez essayer plus tard.", 421, "4.2.1", catalog.StageUnknown, "Service refuse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := FindReply(tc.text)
			if r.Code != tc.code || r.Enhanced != tc.enhanced || r.Stage != tc.stage {
				t.Errorf("got code %d enhanced %q stage %q, want %d %q %q", r.Code, r.Enhanced, r.Stage, tc.code, tc.enhanced, tc.stage)
			}
			if !strings.Contains(r.Text, tc.textHas) {
				t.Errorf("text %q lacks %q", r.Text, tc.textHas)
			}
			if strings.Contains(r.Text, "in reply to") {
				t.Errorf("stage trailer kept in %q", r.Text)
			}
		})
	}
}

func TestExplainTextForms(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		kind       string
		recipients []string
		source     string
		stage      catalog.Stage
		code       int
	}{
		{"reply", "550 5.1.1 user unknown", "reply", []string{""}, "reply", catalog.StageUnknown, 550},
		{"exim text, two recipients", "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  a@example.com\n    SMTP error from remote mail server after RCPT TO:<a@example.com>:\n    host mx.example.com [192.0.2.2]: 550 5.1.1 No such user\n  b@example.org\n    SMTP error from remote mail server after RCPT TO:<b@example.org>:\n    host mx.example.org [192.0.2.3]: 552 5.2.2 Mailbox full\n",
			"bounce-text", []string{"a@example.com", "b@example.org"}, "exim", catalog.StageRCPT, 550},
		{"pasted DSN fields", "Final-Recipient: rfc822; u@example.com\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.com\nDiagnostic-Code: smtp; 550 5.1.1 <u@example.com>: Recipient address rejected: User unknown",
			"dsn", []string{"u@example.com"}, "dsn", catalog.StageUnknown, 550},
		{"exchange ndr", "Delivery has failed to these recipients or groups:\n\nu@example.com\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
			"bounce-text", []string{"u@example.com"}, "exchange-ndr", catalog.StageUnknown, 550},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := ExplainInput([]byte(tc.text), ExplainOptions{})
			if ex.Kind != tc.kind {
				t.Errorf("kind %q, want %q", ex.Kind, tc.kind)
			}
			var got []string
			for _, r := range ex.Replies {
				got = append(got, r.Recipient)
			}
			if strings.Join(got, ",") != strings.Join(tc.recipients, ",") {
				t.Fatalf("recipients %q, want %q", got, tc.recipients)
			}
			r := ex.Replies[0]
			if r.Source != tc.source || r.Stage != tc.stage || r.Code != tc.code {
				t.Errorf("first reply: source %q stage %q code %d; want %q %q %d", r.Source, r.Stage, r.Code, tc.source, tc.stage, tc.code)
			}
			if r.Reason == "" || r.Cause == "" {
				t.Errorf("no reason/cause: %+v", r)
			}
		})
	}
}

func TestStageOverride(t *testing.T) {
	ex := ExplainInput([]byte("554 5.7.1 Access denied"), ExplainOptions{Stage: catalog.StageConnect})
	if ex.Replies[0].Stage != catalog.StageConnect {
		t.Errorf("stage %q", ex.Replies[0].Stage)
	}
	if st, ok := ParseStage("RCPT TO"); !ok || st != catalog.StageRCPT {
		t.Errorf("ParseStage(RCPT TO) = %q %v", st, ok)
	}
	if _, ok := ParseStage("bogus"); ok {
		t.Error("ParseStage accepted bogus")
	}
}

func TestExtractEntities(t *testing.T) {
	e := ExtractEntities("554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org; see https://www.spamhaus.org/query/ip/192.0.2.9 for <u@example.com> from [IPv6:2001:db8::25] RESOLVER.ADR.RecipNotFound")
	want := Entities{
		IPs:       []string{"192.0.2.9", "2001:db8::25"},
		Zones:     []string{"zen.spamhaus.org"}, // not www.spamhaus.org: a web site inside a URL
		Addresses: []string{"u@example.com"},
	}
	if strings.Join(e.IPs, " ") != strings.Join(want.IPs, " ") {
		t.Errorf("IPs %q, want %q", e.IPs, want.IPs)
	}
	if strings.Join(e.Zones, " ") != strings.Join(want.Zones, " ") {
		t.Errorf("zones %q, want %q", e.Zones, want.Zones)
	}
	if strings.Join(e.Addresses, " ") != strings.Join(want.Addresses, " ") {
		t.Errorf("addresses %q", e.Addresses)
	}
	for _, d := range e.Domains {
		if strings.HasPrefix(d, "resolver.") {
			t.Errorf("Exchange token taken for a domain: %q", e.Domains)
		}
	}
	if !strings.Contains(strings.Join(e.Domains, " "), "example.com") {
		t.Errorf("domains %q", e.Domains)
	}
}

func TestParseDSN(t *testing.T) {
	body := "Reporting-MTA: dns; mx.example.jp\nArrival-Date: Mon, 24 May 2010 19:06:50 +0900\n\n" +
		"Final-Recipient: rfc822; a@example.co.jp\nOriginal-Recipient: rfc822;a@example.co.jp\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx01.example.co.jp\nDiagnostic-Code: smtp; 550 5.1.1 Address rejected\n    a@example.co.jp\n\n" +
		// No blank line between the next two recipients, Action first.
		"Action: delayed\nFinal-Recipient: rfc822; b@example.org\nStatus: 4.4.7\nWill-Retry-Until: Tue, 25 May 2010\n" +
		"Action: failed\nFinal-Recipient: rfc822; <c@example.net>\nStatus: 5.2.2\nDiagnostic-Code: X-Postfix; mailbox full\n"
	d := ParseDSN(body)
	if d.ReportingMTA != "mx.example.jp" || len(d.Recipients) != 3 {
		t.Fatalf("%+v", d)
	}
	r := d.Recipients[0]
	if r.FinalRecipient != "a@example.co.jp" || r.Action != "failed" || r.Status != "5.1.1" || r.RemoteMTA != "mx01.example.co.jp" ||
		r.DiagnosticType != "smtp" || r.DiagnosticCode != "550 5.1.1 Address rejected a@example.co.jp" {
		t.Errorf("recipient 1: %+v", r)
	}
	if r := d.Recipients[1]; r.FinalRecipient != "b@example.org" || r.Action != "delayed" || r.WillRetryUntil == "" {
		t.Errorf("recipient 2: %+v", r)
	}
	if r := d.Recipients[2]; r.FinalRecipient != "c@example.net" || r.DiagnosticType != "X-Postfix" || r.Status != "5.2.2" {
		t.Errorf("recipient 3: %+v", r)
	}
}

func TestParseMessageMIME(t *testing.T) {
	// ISO-2022-JP text ("配信できませんでした" = could not be delivered),
	// a quoted-printable part, a base64 part and a boundary that does not
	// match the declared one.
	msg := "From: MAILER-DAEMON@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCR1s/LhsoQg==?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"declared\"\r\n\r\n" +
		"preamble\r\n--actual\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$BG[?.$G$-$^$;$s$G$7$?\x1b(B\r\n" +
		"--actual\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nr=C3=A9sum=\r\n=C3=A9\r\n" +
		"--actual\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IHVAZXhhbXBsZS5jb20KQWN0aW9uOiBmYWlsZWQKU3RhdHVzOiA1LjEuMQo=\r\n--actual--\r\n"
	m := ParseMessage([]byte(msg), DefaultLimits)
	if got := m.Root.Header.Decoded("Subject"); got != "配信" {
		t.Errorf("subject %q", got)
	}
	if len(m.Root.Children) != 3 {
		t.Fatalf("%d parts", len(m.Root.Children))
	}
	if got := m.Root.Children[0].Text(); !strings.Contains(got, "配信できませんでした") {
		t.Errorf("ISO-2022-JP part: %q", got)
	}
	if got := m.Root.Children[1].Text(); !strings.Contains(got, "résumé") {
		t.Errorf("quoted-printable part: %q", got)
	}
	d := ParseDSN(m.Root.Children[2].Text())
	if len(d.Recipients) != 1 || d.Recipients[0].Status != "5.1.1" {
		t.Errorf("base64 delivery-status: %+v", d)
	}
	ex := ExplainMessage(m, ExplainOptions{})
	if ex.Kind != "dsn" || len(ex.Replies) != 1 || ex.Replies[0].Recipient != "u@example.com" || ex.Replies[0].EnhancedCode != "5.1.1" {
		t.Errorf("%+v", ex)
	}
}

func TestStructuralReasons(t *testing.T) {
	tests := []struct {
		name, msg, reason, kind string
	}{
		{"ARF abuse", "From: staff@provider.example\nSubject: FW: report\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nreport\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\nSource-IP: 192.0.2.5\nOriginal-Rcpt-To: <u@example.com>\n--b--\n", "feedback", "feedback"},
		{"auto-reply", "From: u@example.com\nTo: s@example.org\nSubject: Automatic reply: hello\nAuto-Submitted: auto-replied\n\nI am out of the office until Monday.\n", "vacation", "auto-reply"},
		{"exim bounce is not an auto-reply", "From: Mail Delivery System <Mailer-Daemon@example.org>\nTo: s@example.org\nSubject: Mail delivery failed: returning message to sender\nAuto-Submitted: auto-replied\nX-Failed-Recipients: u@example.com\n\nThe following address(es) failed:\n\n  u@example.com\n    SMTP error from remote mail server after RCPT TO:<u@example.com>:\n    host mx.example.com [192.0.2.2]: 550 5.1.1 No such user\n", "", "bounce"},
		{"delivered", "From: MAILER-DAEMON@example.org\nSubject: Successful Mail Delivery Report\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nok\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; u@example.com\nAction: delivered\nStatus: 2.0.0\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued\n--b--\n", "delivered", "dsn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := ExplainInput([]byte(tc.msg), ExplainOptions{})
			if ex.Kind != tc.kind || len(ex.Replies) != 1 {
				t.Fatalf("kind %q, %d replies", ex.Kind, len(ex.Replies))
			}
			if tc.reason != "" && ex.Replies[0].Reason != tc.reason {
				t.Errorf("reason %q, want %q", ex.Replies[0].Reason, tc.reason)
			}
		})
	}
}

// TestFindDomainsIsTheExpression: findDomains finds what the regular
// expression it replaces finds, on bounce texts and edge cases.
func TestFindDomainsIsTheExpression(t *testing.T) {
	re := regexp.MustCompile(`\b((?:[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})\b`)
	inputs := []string{
		"mx.example.com[192.0.2.1]:25", "a.com.b", "xa.com", "-foo.example.com-", "foo-.example.com", "a..b.com", "example.c0m",
		"host.example.abcdefghijklmnopqrstuvwxyzab", "a.b.c.d.e", "_dmarc.example.org", "www.spamhaus.org/query", "1.2.3.4", "u@mail.example.net.",
		strings.Repeat("a", 64) + ".example.com", "x." + strings.Repeat("b", 63) + ".org", "", ".", "a.", "é.example.com", "foo_.bar.com",
	}
	files, _ := filepath.Glob("testdata/bounces/maildir/*.eml")
	for _, f := range files[:60] {
		b, _ := os.ReadFile(f)
		inputs = append(inputs, strings.ToLower(string(b[:min(len(b), 4096)])))
	}
	for _, in := range inputs {
		want := re.FindAllStringSubmatchIndex(in, -1)
		got := findDomains(in)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%.80q:\n got %v\nwant %v", in, got, want)
		}
	}
}

// TestFindAddressesIsTheExpression: findAddresses finds what the regular
// expression it replaces finds.
func TestFindAddressesIsTheExpression(t *testing.T) {
	re := regexp.MustCompile(`[a-z0-9!#$%&'*+/=?^_{|}~.-]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)`)
	inputs := []string{
		"<u@example.com>", "a.b+c@mail.example.net.", "x@y", "@example.com", "u@-bad.com", "u@exa-.com", "u@a..b.com", "a@b.c@d.e",
		strings.Repeat("a", 70) + "@example.org", "u@" + strings.Repeat("b", 64) + ".com", "u@example.com-", "first@one.test second@two.test",
	}
	files, _ := filepath.Glob("testdata/bounces/maildir/*.eml")
	for _, f := range files[:80] {
		b, _ := os.ReadFile(f)
		inputs = append(inputs, strings.ToLower(string(b[:min(len(b), 8192)])))
	}
	for _, in := range inputs {
		want := re.FindAllStringIndex(in, -1)
		if got := findAddresses(in); fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%.80q:\n got %v\nwant %v", in, got, want)
		}
	}
}

// TestFindIPv4s: dotted quads in prose, and what is not one.
func TestFindIPv4s(t *testing.T) {
	got := findIPv4s("[192.0.2.1]:25 from 198.51.100.7. and 203.0.113.5..x 1.2.3.4.5 4.16.55.1 256.1.1.1 01.2.3.4 10.0.0.1,10.0.0.2")
	want := "192.0.2.1 198.51.100.7 203.0.113.5 4.16.55.1 10.0.0.1 10.0.0.2"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
