package check

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/maillog"
)

// explainLogText is a Postfix log: a client refused for a PBL listing
// that still holds (followUpZone), the lines around it, and a bounce.
const explainLogText = `Nov 26 10:00:00 mx postfix/smtpd[123]: connect from relay.isp.test[192.0.2.9]
Nov 26 10:00:01 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from relay.isp.test[192.0.2.9]: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org; from=<a@isp.test> to=<b@example.test> proto=ESMTP helo=<relay.isp.test>
Nov 26 10:00:01 mx postfix/smtpd[123]: disconnect from relay.isp.test[192.0.2.9] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
Nov 26 10:05:01 mx postfix/smtp[457]: 4F3A21C0123: to=<u@example.net>, relay=mx.example.net[198.51.100.3]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.3] said: 550 5.1.1 <u@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))
`

// partLog records what Explain hands to OnPartDone.
type partLog struct{ ids, sections []string }

func (p *partLog) done(part string, secs []report.Section) {
	p.ids = append(p.ids, part)
	for _, s := range secs {
		p.sections = append(p.sections, s.ID)
	}
}

// TestExplainReply: a reply gets the input section, then its own with the
// verdict of what is true now, the command that reproduces the refusal
// and the follow-up; each section is handed on as soon as it is done, the
// input first; the trace lists the follow-up's queries.
func TestExplainReply(t *testing.T) {
	res, _ := followUpResolver(t)
	var p partLog
	rep, err := Explain(context.Background(), Config{Resolver: res, Version: "test", OnPartDone: p.done},
		strings.NewReader("554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"),
		ExplainOptions{Source: "argument"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Command != "explain" || rep.Target != "argument" || len(rep.Sections) != 2 {
		t.Fatalf("report %s %s, %d sections", rep.Command, rep.Target, len(rep.Sections))
	}
	if strings.Join(p.ids, " ") != "explain explain.1" || strings.Join(p.sections, " ") != "explain explain.1" {
		t.Errorf("partLog %v, sections %v", p.ids, p.sections)
	}
	ids := findingIDs(rep.Sections[1].Findings)
	if h := ids["explain.blocked"]; !strings.HasPrefix(h.Summary, "listed now: PBL") || h.Severity != report.Failure {
		t.Errorf("headline %+v", h)
	}
	for _, id := range []string{"explain.reproduce", "explain.dnsbl-still-listed"} {
		if _, ok := ids[id]; !ok {
			t.Errorf("no %s in %v", id, keys(ids))
		}
	}
	if len(rep.Trace) == 0 {
		t.Error("no trace of the follow-up's queries")
	}
}

// TestExplainOffline: no resolver is needed and none is asked; without a
// resolver and not offline, Explain says so instead of reporting.
func TestExplainOffline(t *testing.T) {
	rep, err := Explain(context.Background(), Config{}, strings.NewReader("550 5.1.1 <u@example.com>: Recipient address rejected: User unknown"),
		ExplainOptions{Source: "argument", Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Find("explain.userunknown"); len(f) != 1 || f[0].Severity != report.Failure || rep.Trace != nil {
		t.Errorf("findings %v, trace %v", rep.Findings(), rep.Trace)
	}
	if _, err := Explain(context.Background(), Config{}, strings.NewReader("550 5.1.1 x"), ExplainOptions{}); err == nil {
		t.Error("a live follow-up without a resolver ran")
	}
}

// TestExplainInputErrors: empty input and input that cannot be read are
// the user's to correct (InputError); nothing is explained.
func TestExplainInputErrors(t *testing.T) {
	for name, in := range map[string]string{"empty": "", "blank": " \n\t\r\n"} {
		rep, err := Explain(context.Background(), Config{}, strings.NewReader(in), ExplainOptions{Offline: true})
		var ie *InputError
		if !errors.As(err, &ie) || rep != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	broken := iotest.ErrReader(errors.New("disk on fire"))
	_, err := Explain(context.Background(), Config{}, broken, ExplainOptions{Source: "stdin", Offline: true})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "reading stdin: disk on fire") {
		t.Errorf("unreadable input: %v", err)
	}
}

// TestExplainLog: a log is streamed: every event goes to the Events
// function as it is read, the events are grouped by cause, one section a
// group, and the follow-up of an inbound listing says the refusal holds.
func TestExplainLog(t *testing.T) {
	res, _ := followUpResolver(t)
	var events []*maillog.Event
	var p partLog
	opt := ExplainOptions{Source: "stdin", Events: func() func(*maillog.Event) error {
		return func(ev *maillog.Event) error { events = append(events, ev); return nil }
	}}
	rep, err := Explain(context.Background(), Config{Resolver: res, OnPartDone: p.done}, strings.NewReader(explainLogText), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Direction != maillog.Inbound || events[1].Direction != maillog.Outbound {
		t.Fatalf("%d events", len(events))
	}
	if strings.Join(p.ids, " ") != "explain explain.group.1 explain.group.2" {
		t.Errorf("partLog %v", p.ids)
	}
	in, ok := rep.Sections[0].Detail.(explainedLog)
	if !ok || in.Stats.Lines != 4 || in.Stats.Events != 2 || in.Groups != 2 {
		t.Errorf("input %#v", rep.Sections[0].Detail)
	}
	var inbound, outbound map[string]report.Finding
	for _, s := range rep.Sections[1:] {
		switch g := s.Detail.(*maillog.Group); g.Direction {
		case maillog.Inbound:
			inbound = findingIDs(s.Findings)
		case maillog.Outbound:
			outbound = findingIDs(s.Findings)
		}
	}
	if h := inbound["explain.blocked"]; h.Severity != report.Info || !strings.HasSuffix(h.Summary, "this server's refusal holds") {
		t.Errorf("inbound headline %+v", h)
	}
	if h := outbound["explain.userunknown"]; h.Severity != report.Failure {
		t.Errorf("outbound %v", keys(outbound))
	}
	if rep.ExitCode() != report.ExitFailure {
		t.Errorf("exit %d: a bounced recipient is a failure", rep.ExitCode())
	}
}

// TestScanLog: the events ScanLog reads are the ones Explain reads, and
// an error from the event function ends the reading.
func TestScanLog(t *testing.T) {
	n := 0
	st, err := ScanLog(strings.NewReader(explainLogText), func(*maillog.Event) error { n++; return nil })
	if err != nil || n != 2 || st.Events != 2 || st.Lines != 4 {
		t.Errorf("%d events, stats %+v, err %v", n, st, err)
	}
	stop := errors.New("stop")
	if _, err := ScanLog(strings.NewReader(explainLogText), func(*maillog.Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("err %v", err)
	}
}
