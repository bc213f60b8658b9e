package maillog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"
)

// The fixtures in testdata are log text in the formats the MTAs document:
//
//   - postfix-harness.log: the log of the real Postfix instance of
//     probe/postfix_test.go (Postfix 3.7, Debian), written by its
//     maillog_file during TestPostfixDryRun's scenarios: smtpd's genuine
//     "reject:" lines for RCPT, CONNECT and EHLO, postscreen's, and the
//     connect/TLS/disconnect noise around them;
//   - postfix-outbound.log: the delivery side (smtp(8), lmtp, local(8),
//     qmgr(8)) in Postfix's documented shapes, with a multi-recipient
//     queue id, deferrals, TLS/DNS/connection failures and an expiry;
//   - exim-mainlog: Exim's main log ("<=", "**", "==", "=>" and ACL
//     "rejected" lines, spec chapter "Log files");
//   - sendmail.log: Sendmail's delivery and ruleset lines, one of them
//     naming two recipients;
//   - syslog-forms.log: the same Postfix reject under every prefix the
//     reader knows (RFC 3164, RFC 5424, RFC 3339, journalctl's formats and
//     markers), postscreen and cleanup rejects, and a reject_warning that is
//     not a refusal.

var fixtureNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func scanFile(t *testing.T, name string) ([]*Event, Stats) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewScanner(f, Options{Now: func() time.Time { return fixtureNow }})
	var evs []*Event
	if err := s.Scan(func(ev *Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs, s.Stats()
}

// wantEvent lists the fields of an event a test asserts; "" and 0 are
// asserted too.
type wantEvent struct {
	dir, action, rcpt, sender, host, ip string
	stage                               catalog.Stage
	code                                int
	enhanced                            string
}

func (w wantEvent) String() string {
	return fmt.Sprintf("%s %s rcpt=%s sender=%s host=%s ip=%s stage=%s %d %s", w.dir, w.action, w.rcpt, w.sender, w.host, w.ip, w.stage, w.code, w.enhanced)
}

func got(ev *Event) wantEvent {
	return wantEvent{ev.Direction, ev.Action, ev.Recipient, ev.Sender, ev.RemoteHost, ev.RemoteIP, ev.Stage, ev.Code, ev.EnhancedCode}
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file   string
		lines  int64
		events []wantEvent
	}{
		{"postfix-outbound.log", 27, []wantEvent{
			{Outbound, ActionBounced, "bob@example.net", "alice@example.org", "mx1.example.net", "192.0.2.25", catalog.StageRCPT, 550, "5.1.1"},
			{Outbound, ActionBounced, "dave@example.com", "alice@example.org", "mx.example.com", "198.51.100.7", catalog.StageRCPT, 554, "5.7.1"},
			{Outbound, ActionDeferred, "erin@example.info", "news@example.org", "mx.example.info", "192.0.2.80", catalog.StageConnect, 0, "4.4.1"}, // relay=none: named by the status text
			{Outbound, ActionDeferred, "frank@example.edu", "", "mx.example.edu", "192.0.2.99", catalog.StageRCPT, 450, "4.7.1"},
			{Outbound, ActionDeferred, "gina@example.biz", "", "mx.example.biz", "198.51.100.30", catalog.StageSTARTTLS, 0, "4.7.5"},
			{Outbound, ActionDeferred, "hank@example.coop", "", "mx.example.coop", "192.0.2.61", catalog.StageConnect, 0, "4.4.2"},
			{Outbound, ActionBounced, "ivy@example.invalid", "", "", "", catalog.StageUnknown, 0, "5.4.4"},
			{Outbound, ActionBounced, "jo@example.net", "", "mx1.example.net", "192.0.2.25", catalog.StageDATA, 550, "5.7.1"},
			{Local, ActionBounced, "kim@mail.example.org", "", "", "", catalog.StageUnknown, 0, "5.1.1"},
			{Outbound, ActionBounced, "lee@example.museum", "", "mx.example.museum", "203.0.113.80", catalog.StageConnect, 554, "5.7.1"},
			{Outbound, ActionBounced, "max@mail.example.org", "", "mail.example.org", "", catalog.StageDATA, 552, "5.2.2"},
			{Outbound, ActionDeferred, "erin@example.info", "news@example.org", "mx.example.info", "192.0.2.80", catalog.StageRCPT, 450, "4.7.1"},
			{Outbound, ActionExpired, "erin@example.info", "news@example.org", "mx.example.info", "192.0.2.80", catalog.StageRCPT, 450, "4.7.1"},
		}},
		{"exim-mainlog", 24, []wantEvent{
			{Outbound, ActionBounced, "jim@trek99.example", "alice@example.org", "mail.trek99.example", "192.0.2.9", catalog.StageRCPT, 550, "5.1.1"},
			{Outbound, ActionBounced, "spock@trek99.example", "alice@example.org", "mail.trek99.example", "192.0.2.9", catalog.StageRCPT, 550, "5.1.1"},
			{Outbound, ActionDeferred, "uhura@deep.example", "alice@example.org", "mx.deep.example", "198.51.100.20", catalog.StageRCPT, 451, "4.7.1"},
			{Outbound, ActionBounced, "chekov@example.invalid", "alice@example.org", "", "", catalog.StageUnknown, 0, ""},
			{Outbound, ActionBounced, "sulu@example.net", "bob@example.org", "mx.example.net", "192.0.2.26", catalog.StageDATA, 554, "5.7.1"},
			{Outbound, ActionBounced, "scotty@example.com", "bob@example.org", "mx.example.com", "198.51.100.7", catalog.StageConnect, 554, "5.7.1"},
			{Local, ActionBounced, "riker@example.com", "bob@example.org", "", "", catalog.StageUnknown, 0, ""},
			{Outbound, ActionExpired, "worf@example.net", "bob@example.org", "", "", catalog.StageUnknown, 0, ""},
			{Inbound, ActionRejected, "info@example.org", "promo@spammer.example", "", "198.51.100.44", catalog.StageRCPT, 0, ""},
			{Inbound, ActionRejected, "nosuch@example.org", "x@example.com", "mail.example.com", "192.0.2.12", catalog.StageRCPT, 0, ""},
			{Inbound, ActionRejected, "", "", "", "198.51.100.45", catalog.StageEHLO, 0, ""},
			{Inbound, ActionRejected, "sales@example.org", "x@example.com", "mail.example.com", "192.0.2.12", catalog.StageRCPT, 0, ""},
			{Inbound, ActionRejected, "", "x@example.com", "mail.example.com", "192.0.2.12", catalog.StageDATA, 0, ""},
			{Inbound, ActionRejected, "", "", "", "203.0.113.66", catalog.StageConnect, 0, ""},
		}},
		{"sendmail.log", 11, []wantEvent{
			{Outbound, ActionBounced, "bob@example.net", "alice@example.org", "mx1.example.net", "192.0.2.25", catalog.StageUnknown, 0, "5.1.1"},
			{Outbound, ActionBounced, "carol@example.net", "alice@example.org", "mx1.example.net", "192.0.2.25", catalog.StageUnknown, 0, "5.1.1"},
			{Outbound, ActionDeferred, "dave@example.com", "alice@example.org", "mx.example.com", "198.51.100.7", catalog.StageUnknown, 0, "4.0.0"},
			{Inbound, ActionRejected, "someone@example.edu", "", "unknown.example", "198.51.100.77", catalog.StageRCPT, 550, "5.7.1"},
			{Inbound, ActionRejected, "", "", "dyn-44.example.net", "203.0.113.44", catalog.StageConnect, 554, "5.7.1"},
			{Inbound, ActionRejected, "", "x@nonexistent.example", "mail.example.com", "192.0.2.12", catalog.StageMAIL, 553, "5.1.8"},
			{Local, ActionBounced, "frank@example.org", "", "", "", catalog.StageUnknown, 0, "5.2.2"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			evs, st := scanFile(t, tc.file)
			if st.Lines != tc.lines || st.Events != int64(len(evs)) {
				t.Errorf("stats %+v, want %d lines", st, tc.lines)
			}
			for i := 0; i < max(len(evs), len(tc.events)); i++ {
				switch {
				case i >= len(evs):
					t.Errorf("event %d missing: want %s", i, tc.events[i])
				case i >= len(tc.events):
					t.Errorf("event %d unexpected: %s (%s)", i, got(evs[i]), evs[i].Line)
				case got(evs[i]) != tc.events[i]:
					t.Errorf("event %d:\n got %s\nwant %s\nline %s", i, got(evs[i]), tc.events[i], evs[i].Line)
				}
			}
			for _, ev := range evs {
				if ev.Reason == "" || ev.Cause == "" || ev.Line == "" || ev.LineNumber == 0 || ev.Time.IsZero() {
					t.Errorf("incomplete event %+v", ev)
				}
			}
		})
	}
}

// TestSyslogForms: every prefix gives the same event, with its time; the
// markers, a non-mail program and a reject_warning (not a refusal) give
// none.
func TestSyslogForms(t *testing.T) {
	evs, st := scanFile(t, "syslog-forms.log")
	if len(evs) != 12 || st.Lines != 16 {
		t.Fatalf("%d events in %d lines, want 12 in 16", len(evs), st.Lines)
	}
	for i, ev := range evs[:10] {
		n := i + 1
		if ev.Recipient != fmt.Sprintf("u%d@example.org", n) || ev.RemoteIP != fmt.Sprintf("198.51.100.%d", n) ||
			ev.Stage != catalog.StageRCPT || ev.Reason != "blocked" || ev.Sender != "a@spam.example" || ev.Direction != Inbound {
			t.Errorf("event %d: %s", n, got(ev))
		}
		want := time.Date(2024, 5, 2, 11, 0, n, 0, time.UTC)
		if n == 1 {
			// Before any dated line, a stamp without a year takes now's.
			want = want.AddDate(1, 0, 0)
		}
		if n == 10 {
			want = want.Add(time.Second) // the journal marker and systemd line take :10
		}
		if !ev.Time.Truncate(time.Second).Equal(want) {
			t.Errorf("event %d: time %v, want %v (%s)", n, ev.Time, want, ev.Line)
		}
		if ev.Captures["zone"] != "zen.spamhaus.org" {
			t.Errorf("event %d: captures %v", n, ev.Captures)
		}
	}
	// cleanup's milter and header-check rejects come after DATA, without a basic code.
	for _, ev := range evs[10:] {
		if ev.Stage != catalog.StageDATA || ev.Code != 0 || ev.EnhancedCode != "5.7.1" || !ev.Permanent || ev.RemoteIP != "192.0.2.12" {
			t.Errorf("cleanup reject: %s permanent %v", got(ev), ev.Permanent)
		}
	}
}

// TestHarnessLog: the genuine log of the test suite's Postfix. Every
// "reject:" line is one event (RCPT with or without queue id, CONNECT,
// EHLO, postscreen), every other line is skipped.
func TestHarnessLog(t *testing.T) {
	evs, st := scanFile(t, "postfix-harness.log")
	raw, _ := os.ReadFile("testdata/postfix-harness.log")
	rejects := strings.Count(string(raw), ": reject: ")
	deliveries := strings.Count(string(raw), "status=deferred")
	if len(evs) != rejects+deliveries || st.MailLines != st.Lines {
		t.Fatalf("%d events for %d rejects and %d deferrals; stats %+v", len(evs), rejects, deliveries, st)
	}
	stages := map[catalog.Stage]int{}
	for _, ev := range evs[:rejects] {
		stages[ev.Stage]++
		if ev.Direction != Inbound || ev.Action != ActionRejected || ev.Code == 0 || ev.RemoteIP == "" {
			t.Errorf("%s (%s)", got(ev), ev.Line)
		}
		if strings.Contains(ev.Line, "blocked using bl.dnsbl.test") && (ev.Reason != "blocked" || ev.Captures["zone"] != "bl.dnsbl.test") {
			t.Errorf("DNSBL reject read as %s/%s %v", ev.Reason, ev.Cause, ev.Captures)
		}
	}
	if stages[catalog.StageRCPT] == 0 || stages[catalog.StageConnect] == 0 || stages[catalog.StageEHLO] == 0 {
		t.Errorf("stages %v", stages)
	}
}

// TestStatusTextNamesTheHost: with relay=none (no connection was made) the
// status text is the only place that names the remote host; a lost
// connection names it too.
func TestStatusTextNamesTheHost(t *testing.T) {
	log := "Dec  4 10:00:01 mx1 postfix/smtp[123]: 1A2B3C4D5E: to=<u@example.info>, relay=none, delay=300, delays=0/0/300/0, dsn=4.4.1, status=deferred (connect to mx.example.info[192.0.2.80]:25: Connection timed out)\n" +
		"Dec  4 10:00:02 mx1 postfix/smtp[124]: 2B3C4D5E6F: to=<v@example.coop>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.2, status=deferred (lost connection with mx.example.coop[192.0.2.81] while receiving the initial server greeting)\n"
	s := NewScanner(strings.NewReader(log), Options{Now: func() time.Time { return fixtureNow }})
	var evs []*Event
	if err := s.Scan(func(ev *Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"mx.example.info", "192.0.2.80"}, {"mx.example.coop", "192.0.2.81"}}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if ev.RemoteHost != want[i][0] || ev.RemoteIP != want[i][1] {
			t.Errorf("event %d: remote %q [%q], want %q [%q]", i, ev.RemoteHost, ev.RemoteIP, want[i][0], want[i][1])
		}
	}
}
