package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// explainJSON decodes the explained replies of a JSON report.
func explainJSON(t *testing.T, out string) (report.Report, []map[string]any) {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var raw struct {
		Sections []struct {
			ID     string         `json:"id"`
			Detail map[string]any `json:"detail"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	var replies []map[string]any
	for _, s := range raw.Sections {
		if strings.HasPrefix(s.ID, "explain.") {
			replies = append(replies, s.Detail)
		}
	}
	return rep, replies
}

func TestExplainCommand(t *testing.T) {
	dir := t.TempDir()
	eml := filepath.Join(dir, "bounce.eml")
	bounce := "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: s@example.org\nSubject: Mail delivery failed: returning message to sender\n" +
		"X-Failed-Recipients: a@example.com, b@example.net\n\nThe following address(es) failed:\n\n" +
		"  a@example.com\n    SMTP error from remote mail server after RCPT TO:<a@example.com>:\n    host mx.example.com [192.0.2.2]: 550 5.1.1 No such user here\n" +
		"  b@example.net\n    SMTP error from remote mail server after RCPT TO:<b@example.net>:\n    host mx.example.net [192.0.2.3]: 452 4.2.2 Mailbox full\n"
	if err := os.WriteFile(eml, []byte(bounce), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		recipients []string
		stages     []string
	}{
		{"text argument", "", []string{"550 5.1.1 <u@example.com>: Recipient address rejected: User unknown"}, []string{"u@example.com"}, []string{"unknown"}},
		{"unquoted words", "", []string{"550", "5.1.1", "user", "unknown"}, []string{""}, []string{"unknown"}},
		{"stage override", "", []string{"--stage", "rcpt", "550 5.1.1 unknown"}, []string{""}, []string{"rcpt"}},
		{"file with two recipients", "", []string{eml}, []string{"a@example.com", "b@example.net"}, []string{"rcpt", "rcpt"}},
		{"stdin", bounce, []string{"-"}, []string{"a@example.com", "b@example.net"}, []string{"rcpt", "rcpt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explain", "--offline", "--format", "json"}, tc.args...)
			code, out, stderr := runCLIIn(t, tc.stdin, args...)
			if code == report.ExitUsage {
				t.Fatalf("usage error: %s", stderr)
			}
			rep, replies := explainJSON(t, out)
			if rep.Command != "explain" || len(replies) != len(tc.recipients) {
				t.Fatalf("command %q, %d replies, want %d\n%s", rep.Command, len(replies), len(tc.recipients), out)
			}
			for i, r := range replies {
				for _, field := range []string{"stage", "code", "enhanced_code", "reason", "cause", "permanent", "action_by", "fix"} {
					if _, ok := r[field]; !ok {
						t.Errorf("reply %d lacks %q: %v", i, field, r)
					}
				}
				if got, _ := r["recipient"].(string); got != tc.recipients[i] {
					t.Errorf("reply %d recipient %q, want %q", i, got, tc.recipients[i])
				}
				if r["stage"] != tc.stages[i] {
					t.Errorf("reply %d stage %v, want %s", i, r["stage"], tc.stages[i])
				}
				if r["code"] == float64(550) && r["enhanced_code"] != "5.1.1" {
					t.Errorf("reply %d enhanced %v", i, r["enhanced_code"])
				}
			}
			if code != rep.ExitCode() {
				t.Errorf("exit %d, report says %d", code, rep.ExitCode())
			}
		})
	}
}

// Without --offline the named blocklist is asked, through --resolver only.
func TestExplainFollowUpCLI(t *testing.T) {
	srv := dnstest.Start(t, `
2.0.0.127.zen.spamhaus.org.  A 127.0.0.2
9.2.0.192.zen.spamhaus.org.  A 127.0.0.11
`)
	code, out, stderr := runCLI(t, "explain", "--resolver", srv.Addr, "--format", "json",
		"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org")
	ids := findIDs(t, out)
	if ids["explain.dnsbl-still-listed"] != "failure" || code != report.ExitFailure {
		t.Errorf("exit %d, findings %v, stderr %q", code, ids, stderr)
	}
	// The headline says what is true now.
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if h := rep.Find("explain.blocked"); len(h) != 1 || !strings.HasPrefix(h[0].Summary, "listed now: PBL") {
		t.Errorf("headline %+v", h)
	}
	code, out, _ = runCLI(t, "explain", "--resolver", srv.Addr, "--format", "json",
		"554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org")
	if ids := findIDs(t, out); ids["explain.dnsbl-delisted"] != "ok" || ids["explain.blocked"] != "warning" || code != report.ExitWarning {
		t.Errorf("exit %d, findings %v", code, ids)
	}
	// --offline sends nothing.
	before := srv.Queries()
	runCLI(t, "explain", "--offline", "--resolver", srv.Addr, "554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org")
	if srv.Queries() != before {
		t.Errorf("--offline sent %d queries", srv.Queries()-before)
	}
}

func TestExplainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"explain"}, {"explain", "--stage", "bogus", "550 x"}, {"explain", "--ip", "nope", "550 x"},
		{"explain", "--sender", "noat", "550 x"}, {"explain", "   "}, {"explain", "--format", "xml", "550 x"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != report.ExitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, report.ExitUsage, stderr)
		}
	}
}

func TestExplainTextOutput(t *testing.T) {
	_, out, _ := runCLI(t, "explain", "--offline", "--color", "never",
		"host mx.example.com[192.0.2.2] said: 550 5.1.1 <u@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)")
	for _, want := range []string{"stage rcpt, code 550, enhanced 5.1.1", "reply: 550 5.1.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

// A file name that names no file is a usage error, not a reply to explain;
// a reply that contains a "/" (a URL) is still a reply.
func TestExplainMissingFile(t *testing.T) {
	for _, arg := range []string{"bounce.eml", "mail.LOG", "notes.txt", "box.mbox", "x.msg", "./typo", "/var/log/nosuch", "dir/file"} {
		code, out, stderr := runCLI(t, "explain", "--offline", arg)
		if code != report.ExitUsage || !strings.Contains(stderr, "no such file") || out != "" {
			t.Errorf("%q: exit %d, stderr %q, out %q", arg, code, stderr, out)
		}
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "explain", "--offline", dir); code != report.ExitUsage || !strings.Contains(stderr, "directory") {
		t.Errorf("a directory: exit %d, %q", code, stderr)
	}
	code, out, _ := runCLI(t, "explain", "--offline", "--format", "json", "554 5.7.1 Blocked, see https://www.spamhaus.org/query/ip/192.0.2.9")
	if code == report.ExitUsage {
		t.Fatalf("a reply with a URL was taken for a file name")
	}
	if _, replies := explainJSON(t, out); len(replies) != 1 {
		t.Errorf("%d replies", len(replies))
	}
}

// The README's own example: a whole log on stdin. Events of both
// directions, one JSON element per event with the reply's fields, and the
// groups in the report.
func TestExplainLog(t *testing.T) {
	var log strings.Builder
	for _, f := range []string{"postfix-harness.log", "postfix-outbound.log"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "report", "maillog", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		log.Write(b)
	}
	code, out, stderr := runCLIIn(t, log.String(), "explain", "--offline", "--format", "json", "-")
	var doc struct {
		Events   []map[string]any `json:"events"`
		Command  string           `json:"command"`
		Sections []struct {
			ID     string         `json:"id"`
			Detail map[string]any `json:"detail"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v (stderr %q)\n%.2000s", err, stderr, out)
	}
	if doc.Command != "explain" || len(doc.Events) != 20+13 {
		t.Fatalf("command %q, %d events", doc.Command, len(doc.Events))
	}
	dirs := map[string]int{}
	for i, ev := range doc.Events {
		for _, k := range []string{"stage", "code", "enhanced_code", "reason", "recipient", "direction", "action", "line", "time"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event %d lacks %q: %v", i, k, ev)
			}
		}
		dirs[ev["direction"].(string)]++
	}
	if dirs["inbound"] != 19 || dirs["outbound"] != 12 || dirs["local"] != 2 {
		t.Errorf("directions %v", dirs)
	}
	groups := 0
	for _, s := range doc.Sections {
		if strings.HasPrefix(s.ID, "explain.group.") {
			groups++
			if s.Detail["count"] == nil || s.Detail["example"] == nil || s.Detail["remote_ips"] == nil {
				t.Errorf("group %s: %v", s.ID, s.Detail)
			}
		}
	}
	if groups < 10 {
		t.Errorf("%d groups", groups)
	}
	if code != report.ExitFailure {
		t.Errorf("exit %d: bounced recipients are failures", code)
	}

	// Text: one block per cause, with its count, hosts, example and fix.
	_, text, _ := runCLIIn(t, log.String(), "explain", "--offline", "--color", "never", "-")
	for _, want := range []string{"(mail log), 136 lines, 134 of a known MTA", "33 events in", "7 × refused by this server: blocked (dnsbl.listed)",
		"remote IPs: 127.0.1.11 (7)", "example (line", "mxray smtp mx.example.com --source 203.0.113.5", "fix: "} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

// One Postfix reject line given as the argument is a log line: its stage is
// the one it names.
func TestExplainOneLogLine(t *testing.T) {
	line := "Nov 26 10:00:00 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from relay29.isp.test[203.0.113.29]: 554 5.7.1 Service unavailable; Client host [203.0.113.29] blocked using zen.spamhaus.org; from=<a@isp.test> to=<b@example.org> proto=ESMTP helo=<relay29.isp.test>"
	_, out, _ := runCLI(t, "explain", "--offline", "--format", "json", line)
	var doc struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Events) != 1 {
		t.Fatalf("%v %d\n%s", err, len(doc.Events), out)
	}
	ev := doc.Events[0]
	if ev["stage"] != "rcpt" || ev["code"] != float64(554) || ev["enhanced_code"] != "5.7.1" || ev["reason"] != "blocked" ||
		ev["recipient"] != "b@example.org" || ev["remote_ip"] != "203.0.113.29" || ev["direction"] != "inbound" {
		t.Errorf("%v", ev)
	}
}

// TestExplainLogOutputFile: with --output the streamed JSON document of a
// log (events, then the report) goes to the file, whole, and nothing to
// stdout.
func TestExplainLogOutputFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "report", "maillog", "testdata", "postfix-outbound.log"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.json")
	code, out, stderr := runCLIIn(t, string(b), "explain", "--offline", "--format", "json", "--output", path, "-")
	if out != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Events  []map[string]any `json:"events"`
		Command string           `json:"command"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Command != "explain" || len(doc.Events) == 0 {
		t.Fatalf("document: %v, command %q, %d events\n%.500s", err, doc.Command, len(doc.Events), data)
	}
}
