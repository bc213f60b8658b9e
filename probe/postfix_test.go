//go:build linux

package probe_test

// Real-peer tests: the dry run against Debian's Postfix (harness in
// postfix_harness_test.go). Postfix is configured (scripts/postfix/main.cf.in)
// with the restrictions a real MX uses —
//
//	smtpd_client_restrictions = reject_rbl_client bl.dnsbl.test, reject_unknown_client_hostname
//	smtpd_helo_required = yes
//	smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
//	smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
//	local_recipient_maps = texthash:.../recipients
//
// — and each scenario dials from a client address the zone below describes,
// so that Postfix says, in its own words, what it says to real clients. With
// smtpd_delay_reject = yes (Postfix's default) the client and HELO
// restrictions are applied at RCPT TO: that is where a Postfix MX says
// "blocked using ..." or "Helo command rejected", and where the probe must
// see and classify it.
//
// A second smtpd (127.0.1.26) runs with smtpd_delay_reject = no, as MXs that
// reject early do: the DNSBL and PTR verdicts come as the greeting (a 554 is
// the RFC 5321 §3.1 refusal; Postfix also greets a client without a name
// with a 450), the HELO verdicts as the EHLO reply. A postscreen listener
// (127.0.1.27) adds the multi-line "220-" greeting of its greeting test and
// its own DNSBL wording.
//
// What the replies mean: 5.1.1 bad destination mailbox (RFC 3463 §3.2),
// 5.7.1 delivery not authorized (§3.8), 5.5.2 syntax error (§3.6), 4.7.25
// reverse DNS validation failed (RFC 7372 §3.3); DNSBL A records 127.0.0.x
// and the TXT reason per RFC 5782 §2.1, 127.0.0.2 its test point (§5).
// Each reply is asserted as recorded by the probe (stage, code, enhanced
// code, text), as classified by catalog.Explain (reason class and cause), and
// through the session's status and findings.
//
// The safety invariant closes the test: across every scenario Postfix
// received no DATA, no BDAT and no message — its queue is empty and its own
// per-session command counters list no data/bdat — and a control message
// sent on purpose proves that the check sees one.

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/maillog"
)

// postfixZone is the DNS world Postfix sees (served by dnstest on
// 127.0.1.225:53). Client addresses:
//
//	127.0.1.10  PTR good.client.test, which has A 127.0.1.10: a proper client
//	127.0.1.11  PTR and A like .10, but listed on bl.dnsbl.test
//	127.0.1.12  no PTR at all (NXDOMAIN)
//	127.0.1.13  PTR forged.client.test, whose A is another address
//	127.0.1.20  PTR and A: the control client that does send a message
const postfixZone = `
$TTL 300
client.test.                 IN SOA ns.client.test. hostmaster.client.test. 1 3600 600 86400 300
good.client.test.            IN A   127.0.1.10
listed.client.test.          IN A   127.0.1.11
forged.client.test.          IN A   127.0.1.99
control.client.test.         IN A   127.0.1.20

1.0.127.in-addr.arpa.        IN SOA ns.client.test. hostmaster.client.test. 1 3600 600 86400 300
10.1.0.127.in-addr.arpa.     IN PTR good.client.test.
11.1.0.127.in-addr.arpa.     IN PTR listed.client.test.
13.1.0.127.in-addr.arpa.     IN PTR forged.client.test.
20.1.0.127.in-addr.arpa.     IN PTR control.client.test.

; The test DNSBL: 127.0.1.11 listed, with a reason in TXT, and the RFC 5782
; §5 test point 127.0.0.2.
bl.dnsbl.test.               IN SOA ns.dnsbl.test. hostmaster.dnsbl.test. 1 3600 600 86400 300
11.1.0.127.bl.dnsbl.test.    IN A   127.0.0.2
11.1.0.127.bl.dnsbl.test.    IN TXT "Listed by the mxray test list, see http://dnsbl.test/q?ip=127.0.1.11"
2.0.0.127.bl.dnsbl.test.     IN A   127.0.0.2
2.0.0.127.bl.dnsbl.test.     IN TXT "RFC 5782 test point"
`

// wantReply is what the probe must have recorded for one reply.
type wantReply struct {
	stage    catalog.Stage
	code     int
	enhanced string
	text     *regexp.Regexp // matched against Reply.Text()
	// class is catalog.Explain's verdict, "reason/cause" (the bounce
	// taxonomy's reason class and the catalog's cause id); "" = not asserted.
	class string
}

func (w wantReply) check(t *testing.T, what string, r *probe.Reply) {
	t.Helper()
	if r == nil {
		t.Errorf("%s: no reply recorded, want %d %s", what, w.code, w.enhanced)
		return
	}
	// The text as Postfix wrote it after the enhanced code (RFC 2034 §4:
	// "code SP enhanced-code SP text"), whether or not Text() keeps it.
	text := r.Text()
	if r.Enhanced != "" {
		text = strings.TrimPrefix(text, r.Enhanced+" ")
	}
	if r.Stage != w.stage || r.Code != w.code || r.Enhanced != w.enhanced || !w.text.MatchString(text) {
		t.Errorf("%s: got stage %s, %d %s %q\nwant stage %s, %d %s matching %s",
			what, r.Stage, r.Code, r.Enhanced, text, w.stage, w.code, w.enhanced, w.text)
	}
	if len(r.Lines) == 0 || !strings.HasPrefix(r.Lines[0], strconv.Itoa(w.code)) {
		t.Errorf("%s: raw lines %q do not start with %d", what, r.Lines, w.code)
	}
	// The catalog's verdict on the reply, as attached by the probe and as
	// catalog.Explain gives it for the same reply.
	ex := catalog.Explain(r.Stage, r.Code, r.Enhanced, r.Text())
	if r.Explain.Reason != ex.Reason || r.Explain.Cause != ex.Cause {
		t.Errorf("%s: the probe's explanation %s/%s differs from catalog.Explain's %s/%s",
			what, r.Explain.Reason, r.Explain.Cause, ex.Reason, ex.Cause)
	}
	if w.class == "" {
		return
	}
	if got := ex.Reason + "/" + ex.Cause; got != w.class {
		t.Errorf("%s: %d %s %q explained as %s (%s), want %s", what, r.Code, r.Enhanced, r.Text(), got, ex.Summary, w.class)
	}
	if ex.Permanent != (w.code >= 500) {
		t.Errorf("%s: explanation Permanent = %v for a %d reply", what, ex.Permanent, w.code)
	}
	// Who must act: the sender for a wrong address, the sending side's
	// postmaster for the client's IP, name or relay rights, nobody for a
	// success or a connection limit (retry later).
	wantAction := catalog.ActionSenderAdmin
	switch ex.Reason {
	case "delivered", "toomanyconn":
		wantAction = catalog.ActionNobody
	case "userunknown":
		wantAction = catalog.ActionSender
	}
	if ex.ActionBy != wantAction {
		t.Errorf("%s: explanation says %s must act, want %s", what, ex.ActionBy, wantAction)
	}
}

// postfixScenario is one dry run from one client address.
type postfixScenario struct {
	name   string
	client string // source address of the connection
	// via is the listener dialed: "" the smtpd on 127.0.1.25, "early"
	// the smtpd with smtpd_delay_reject = no on 127.0.1.26 (rejects at
	// connect and at EHLO), "screen" postscreen on 127.0.1.27, "rate" the
	// smtpd with a connection rate limit on 127.0.1.28, "badtls" the smtpd
	// whose certificate files are missing on 127.0.1.29.
	via string
	// screened: postscreen itself ends the session; no smtpd sees it.
	screened bool
	// source: the session is opened from client by the probe's own dial
	// (Config.LocalAddr, what mxray smtp --source sets) instead of the
	// test's dialer.
	source bool
	helo   string
	domain string
	rcpts  []string
	// noCatchAll / noRelay turn the probe's random-recipient and relay
	// RCPTs off, so that each scenario isolates one restriction.
	noCatchAll, noRelay bool

	wantStatus probe.Status
	// greeting: nil is Postfix's 220 banner. Any other greeting ends the
	// session there.
	greeting *wantReply
	// ehlo: nil is the 250 EHLO reply, followed by STARTTLS and MAIL FROM.
	// Any other EHLO reply ends the session there.
	ehlo *wantReply
	// starttls: nil is "220 2.0.0 Ready to start TLS" and a verified
	// handshake; otherwise the refusal, after which the session goes on in
	// plaintext.
	starttls *wantReply
	// want maps each RCPT kind the probe tried to the reply it must have
	// recorded; every RCPT of the session must be listed.
	want map[probe.RcptKind]wantReply
	// noQuit: the session ends without QUIT (the probe closes after a 421
	// greeting: the server is closing the channel, RFC 5321 §3.8).
	noQuit bool
	// findings the session must produce (id → severity); others may come
	// too, except those in neverFindings.
	findings map[string]report.Severity
}

// neverFindings must not be reported against this Postfix: it relays
// nothing, rejects unknown users and speaks SMTP correctly, whatever else
// it refuses.
var neverFindings = []string{"smtp.open-relay", "smtp.catch-all", "smtp.protocol-error", "smtp.tls-handshake-failed"}

// A client that is refused for itself proves nothing about recipients or
// relaying; these findings must then be absent (checked per scenario).
var clientRefusedNever = []string{"smtp.unknown-recipient-rejected", "smtp.relay-denied"}

func reply(stage catalog.Stage, code int, enhanced, textRE, class string) *wantReply {
	return &wantReply{stage, code, enhanced, regexp.MustCompile(textRE), class}
}

var (
	ok250Rcpt   = *reply(catalog.StageRCPT, 250, "2.1.5", `^Ok$`, "delivered/ok")
	userUnknown = *reply(catalog.StageRCPT, 550, "5.1.1",
		`^<[^>]+@postfix\.test>: Recipient address rejected: User unknown in local recipient table$`, "userunknown/recipient.unknown")
	listedText = `^Service unavailable; Client host \[127\.0\.1\.11\] blocked using bl\.dnsbl\.test; ` +
		`Listed by the mxray test list, see http://dnsbl\.test/q\?ip=127\.0\.1\.11$`
	// postscreen's own wording: lower-case "client", no TXT reason.
	screenedText = `^Service unavailable; client \[127\.0\.1\.11\] blocked using bl\.dnsbl\.test$`
	noPTRText    = `^Client host rejected: cannot find your hostname, \[127\.0\.1\.1[23]\]$`
)

func postfixScenarios() []postfixScenario {
	postmasterOnly := func(sc postfixScenario) postfixScenario {
		sc.domain, sc.noCatchAll, sc.noRelay = postfixDomain, true, true
		if sc.wantStatus == "" {
			sc.wantStatus = probe.StatusOK
		}
		return sc
	}
	return []postfixScenario{
		postmasterOnly(postfixScenario{
			name: "accepted postmaster", client: "127.0.1.10", helo: "good.client.test",
			// Postfix answers VRFY with 252 unless disable_vrfy_command = yes.
			findings: map[string]report.Severity{"smtp.postmaster-accepted": report.OK, "smtp.certificate-ok": report.OK, "smtp.vrfy-noncommittal": report.OK},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: ok250Rcpt},
		}),
		{
			name: "known user accepted, unknown user 550 5.1.1", client: "127.0.1.10", helo: "good.client.test", domain: postfixDomain,
			rcpts: []string{"alice@postfix.test"}, noRelay: true, wantStatus: probe.StatusOK,
			findings: map[string]report.Severity{"smtp.postmaster-accepted": report.OK, "smtp.rcpt": report.OK, "smtp.unknown-recipient-rejected": report.OK},
			want: map[probe.RcptKind]wantReply{
				probe.RcptPostmaster: ok250Rcpt,
				probe.RcptUser:       ok250Rcpt,
				probe.RcptRandom:     userUnknown,
			},
		},
		{
			name: "explicit unknown user 550 5.1.1", client: "127.0.1.10", helo: "good.client.test",
			rcpts: []string{"nobody@postfix.test"}, noRelay: true, wantStatus: probe.StatusOK,
			findings: map[string]report.Severity{"smtp.rcpt": report.Failure},
			want:     map[probe.RcptKind]wantReply{probe.RcptUser: userUnknown},
		},
		{
			name: "relay attempt 554 5.7.1 Relay access denied", client: "127.0.1.10", helo: "good.client.test", domain: postfixDomain,
			findings:   map[string]report.Severity{"smtp.postmaster-accepted": report.OK, "smtp.relay-denied": report.OK},
			noCatchAll: true, wantStatus: probe.StatusOK,
			want: map[probe.RcptKind]wantReply{
				probe.RcptPostmaster: ok250Rcpt,
				probe.RcptRelay: *reply(catalog.StageRCPT, 554, "5.7.1",
					`^<`+regexp.QuoteMeta(probe.DefaultRelayRcpt)+`>: Relay access denied$`, "norelaying/relay.denied"),
			},
		},
		postmasterOnly(postfixScenario{
			name: "listed client 554 5.7.1 at RCPT", client: "127.0.1.11", helo: "listed.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 554, "5.7.1", listedText, "blocked/dnsbl.listed")},
		}),
		{
			// A refused client gets the same 554 for every RCPT: the catch-all
			// and relay probes must say "could not observe", not "ok".
			name: "listed client: recipient and relay tests inconclusive", client: "127.0.1.11", helo: "listed.client.test",
			domain: postfixDomain, wantStatus: probe.StatusOK,
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure,
				"smtp.unknown-recipient-untested": report.Unknown, "smtp.relay-untested": report.Unknown},
			want: map[probe.RcptKind]wantReply{
				probe.RcptPostmaster: *reply(catalog.StageRCPT, 554, "5.7.1", listedText, "blocked/dnsbl.listed"),
				probe.RcptRandom:     *reply(catalog.StageRCPT, 554, "5.7.1", listedText, "blocked/dnsbl.listed"),
				probe.RcptRelay:      *reply(catalog.StageRCPT, 554, "5.7.1", listedText, "blocked/dnsbl.listed"),
			},
		},
		postmasterOnly(postfixScenario{
			// mxray smtp --source 127.0.1.11: the probe binds the listed
			// address itself, and Postfix refuses that address.
			name: "--source: listed address refused 554 5.7.1 at RCPT", client: "127.0.1.11", source: true, helo: "listed.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 554, "5.7.1", listedText, "blocked/dnsbl.listed")},
		}),
		postmasterOnly(postfixScenario{
			name: "client without PTR 450 4.7.25 at RCPT", client: "127.0.1.12", helo: "nameless.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-deferred": report.Unknown},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 450, "4.7.25", noPTRText, "requireptr/rdns.missing")},
		}),
		postmasterOnly(postfixScenario{
			name: "client whose PTR name does not resolve back 450 4.7.25 at RCPT", client: "127.0.1.13", helo: "forged.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-deferred": report.Unknown},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 450, "4.7.25", noPTRText, "requireptr/rdns.missing")},
		}),
		postmasterOnly(postfixScenario{
			name: "non-FQDN HELO 504 5.5.2 at RCPT", client: "127.0.1.10", helo: "localhost",
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure},
			want: map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 504, "5.5.2",
				`^<localhost>: Helo command rejected: need fully-qualified hostname$`, "blocked/helo.not-fqdn")},
		}),
		postmasterOnly(postfixScenario{
			name: "invalid HELO 501 5.5.2 at RCPT", client: "127.0.1.10", helo: "-bad-.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure},
			want: map[probe.RcptKind]wantReply{probe.RcptPostmaster: *reply(catalog.StageRCPT, 501, "5.5.2",
				`^<-bad-\.client\.test>: Helo command rejected: Invalid name$`, "blocked/helo.invalid")},
		}),

		// smtpd_delay_reject = no: the same restrictions, applied early.
		postmasterOnly(postfixScenario{
			name: "early: accepted postmaster", via: "early", client: "127.0.1.10", helo: "good.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-accepted": report.OK},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: ok250Rcpt},
		}),
		postmasterOnly(postfixScenario{
			name: "early: listed client 554 5.7.1 greeting", via: "early", client: "127.0.1.11", helo: "listed.client.test",
			findings:   map[string]report.Severity{"smtp.rejected-at-greeting": report.Failure},
			wantStatus: probe.StatusRejectedAtGreeting,
			greeting:   reply(catalog.StageConnect, 554, "5.7.1", listedText, "blocked/dnsbl.listed"),
		}),
		postmasterOnly(postfixScenario{
			name: "early: client without PTR 450 4.7.25 greeting", via: "early", client: "127.0.1.12", helo: "nameless.client.test",
			findings:   map[string]report.Severity{"smtp.rejected-at-greeting": report.Unknown},
			wantStatus: probe.StatusRejectedAtGreeting,
			greeting:   reply(catalog.StageConnect, 450, "4.7.25", noPTRText, "requireptr/rdns.missing"),
		}),
		postmasterOnly(postfixScenario{
			name: "early: non-FQDN HELO 504 5.5.2 at EHLO", via: "early", client: "127.0.1.10", helo: "localhost",
			findings:   map[string]report.Severity{"smtp.helo-rejected": report.Failure},
			wantStatus: probe.StatusRejectedAtHELO,
			ehlo: reply(catalog.StageEHLO, 504, "5.5.2",
				`^<localhost>: Helo command rejected: need fully-qualified hostname$`, "blocked/helo.not-fqdn"),
		}),
		postmasterOnly(postfixScenario{
			name: "early: invalid HELO 501 5.5.2 at EHLO", via: "early", client: "127.0.1.10", helo: "-bad-.client.test",
			findings:   map[string]report.Severity{"smtp.helo-rejected": report.Failure},
			wantStatus: probe.StatusRejectedAtHELO,
			ehlo: reply(catalog.StageEHLO, 501, "5.5.2",
				`^<-bad-\.client\.test>: Helo command rejected: Invalid name$`, "blocked/helo.invalid"),
		}),

		// A connection rate limit of one per minute per client.
		postmasterOnly(postfixScenario{
			name: "rate limit: first connection accepted", via: "rate", client: "127.0.1.10", helo: "good.client.test",
			findings: map[string]report.Severity{"smtp.postmaster-accepted": report.OK},
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: ok250Rcpt},
		}),
		postmasterOnly(postfixScenario{
			name: "rate limit: second connection 421 4.7.0 too many connections", via: "rate", client: "127.0.1.10", helo: "good.client.test",
			findings:   map[string]report.Severity{"smtp.rate-limited": report.Unknown},
			wantStatus: probe.StatusRateLimited,
			greeting: reply(catalog.StageConnect, 421, "4.7.0",
				`^mx\.postfix\.test Error: too many connections from 127\.0\.1\.10$`, "toomanyconn/rate.connections"),
			noQuit: true,
		}),

		// STARTTLS offered, but the certificate files are missing.
		postmasterOnly(postfixScenario{
			name: "broken TLS: 454 4.7.0 TLS not available, session goes on in plaintext", via: "badtls", client: "127.0.1.10", helo: "good.client.test",
			findings: map[string]report.Severity{"smtp.starttls-refused": report.Warning, "smtp.postmaster-accepted": report.OK},
			starttls: reply(catalog.StageSTARTTLS, 454, "4.7.0", `^TLS not available due to local problem$`, ""),
			want:     map[probe.RcptKind]wantReply{probe.RcptPostmaster: ok250Rcpt},
		}),

		// postscreen in front: one session per client address (postscreen
		// caches a client that passed, and skips its greeting test next time).
		{
			name: "postscreen: listed client 550 5.7.1 at every RCPT", via: "screen", screened: true,
			client: "127.0.1.11", helo: "listed.client.test", domain: postfixDomain, noCatchAll: true, wantStatus: probe.StatusOK,
			findings: map[string]report.Severity{"smtp.postmaster-rejected": report.Failure},
			want: map[probe.RcptKind]wantReply{
				probe.RcptPostmaster: *reply(catalog.StageRCPT, 550, "5.7.1", screenedText, "blocked/dnsbl.listed"),
				probe.RcptRelay:      *reply(catalog.StageRCPT, 550, "5.7.1", screenedText, "blocked/dnsbl.listed"),
			},
		},
		{
			name: "postscreen: new client passes to smtpd", via: "screen",
			client: "127.0.1.10", helo: "good.client.test", domain: postfixDomain, wantStatus: probe.StatusOK,
			findings: map[string]report.Severity{"smtp.postmaster-accepted": report.OK, "smtp.unknown-recipient-rejected": report.OK, "smtp.relay-denied": report.OK},
			want: map[probe.RcptKind]wantReply{
				probe.RcptPostmaster: ok250Rcpt,
				probe.RcptRandom:     userUnknown,
				probe.RcptRelay: *reply(catalog.StageRCPT, 554, "5.7.1",
					`^<`+regexp.QuoteMeta(probe.DefaultRelayRcpt)+`>: Relay access denied$`, "norelaying/relay.denied"),
			},
		},
	}
}

func TestPostfixDryRun(t *testing.T) {
	pf := startPostfix(t, postfixZone, []string{"postmaster@" + postfixDomain, "alice@" + postfixDomain})
	t.Logf("Postfix %s in %s, DNS on %s", pf.Version, pf.Dir, pf.DNS.Addr)

	var runs []postfixRun
	smtpdSessions := 0
	for _, sc := range postfixScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			s := dryRunFrom(t, pf, sc)
			run := postfixRun{sc: sc, s: s}
			if !sc.screened {
				// Wait for smtpd's account of this session before the
				// next one starts, so each log line has one owner.
				run.logged = pf.waitSession(smtpdSessions, postfixClient)
				smtpdSessions++
			}
			runs = append(runs, run)
			checkPostfixSession(t, sc, s)
			if t.Failed() {
				t.Logf("status %s: %s\ntranscript:\n%s", s.Status, s.Detail, strings.Join(s.Transcript(), "\n"))
			}
		})
	}

	// Postfix resolved through dnstest (and nothing else): its DNSBL and
	// PTR lookups, and the forward check of each PTR name, reached it.
	t.Run("Postfix resolved through the test DNS", func(t *testing.T) {
		seen := map[string]bool{}
		for _, q := range pf.DNS.Log() {
			seen[q] = true
		}
		for _, q := range []string{
			"11.1.0.127.bl.dnsbl.test. A", "11.1.0.127.bl.dnsbl.test. TXT", "10.1.0.127.bl.dnsbl.test. A",
			"10.1.0.127.in-addr.arpa. PTR", "12.1.0.127.in-addr.arpa. PTR", "13.1.0.127.in-addr.arpa. PTR",
			"good.client.test. A", "forged.client.test. A",
		} {
			if !seen[q] {
				t.Errorf("dnstest never saw the query %q; it saw %v", q, pf.DNS.Log())
			}
		}
	})

	// Postfix's view of the probe as a client: no protocol complaints, and
	// a connection dropped without QUIT only where the probe was refused at
	// the greeting with a code that does not ask for one.
	t.Run("Postfix saw well-formed SMTP", func(t *testing.T) {
		log := pf.Log()
		for _, bad := range []string{"improper command pipelining", "non-SMTP command", "too many errors",
			"SSL_accept error", "timeout after", "unknown command", "syntax error"} {
			if strings.Contains(log, bad) {
				t.Errorf("Postfix logged %q", bad)
			}
		}
		// After a 421 Postfix closes the connection itself; after its 450
		// greeting it waits for commands, and the probe ends with QUIT, so
		// no session should be a "lost connection".
		hungUp := 0
		for _, r := range runs {
			if r.sc.noQuit && r.s.Greeting != nil && r.s.Greeting.Code != 421 {
				hungUp++
			}
		}
		if n := strings.Count(log, "lost connection after"); n != hungUp {
			t.Errorf("Postfix logged %d lost connections, want %d", n, hungUp)
		}
	})

	// mxray explain reads this Postfix's own log: every "reject:" line is
	// one event, with the stage the line names and the reply's codes.
	t.Run("maillog reads Postfix's log", func(t *testing.T) {
		checkMaillog(t, pf.Log())
	})

	// The safety invariant, over every session above.
	t.Run("no DATA, BDAT or message reached Postfix", func(t *testing.T) {
		checkNothingDelivered(t, pf, runs, 5*time.Second, t.Errorf)
	})
	// The control: the same check must see a message sent on purpose.
	t.Run("control: a message sent on purpose is detected", func(t *testing.T) {
		sendControlMessage(t, pf)
		var problems []string
		checkNothingDelivered(t, pf, runs, time.Second, func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf(format, args...))
		})
		all := strings.Join(problems, "\n")
		for _, want := range []string{"Postfix's queue holds", `the Postfix log has "message-id="`, "Postfix counted data=1", "smtpd logged"} {
			if !strings.Contains(all, want) {
				t.Errorf("the invariant check missed the control message (%q not reported); it reported:\n%s", want, all)
			}
		}
		ss := pf.Sessions(func(ip string) bool { return ip == postfixControl })
		if len(ss) != 1 || ss[0].Sent["data"] != 1 || ss[0].OK["data"] != 1 {
			t.Errorf("Postfix's account of the control session: %+v, want one session with data=1", ss)
		}
	})
	if t.Failed() {
		t.Logf("Postfix log:\n%s", pf.Log())
	}
}

// postfixRun is a scenario, the session the probe recorded for it, and
// smtpd's log of the session (nil for sessions postscreen kept, or when
// smtpd logged none).
type postfixRun struct {
	sc     postfixScenario
	s      *probe.Session
	logged *smtpdSession
}

// dryRunFrom runs the probe's dry run from sc.client against the instance.
func dryRunFrom(t testing.TB, pf *postfixPeer, sc postfixScenario) *probe.Session {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sc.client)}}
	cfg := probe.Config{
		Dial:        d.DialContext,
		HELO:        sc.helo,
		Domain:      sc.domain,
		Recipients:  sc.rcpts,
		NoCatchAll:  sc.noCatchAll,
		NoRelayTest: sc.noRelay,
		TLS:         probe.TLSOptions{RootCAs: pf.Roots},
		// Every Postfix reply here comes within milliseconds (its error
		// sleep starts after smtpd_soft_error_limit = 10 errors).
		ConnectTimeout:  5 * time.Second,
		GreetingTimeout: 10 * time.Second,
		CommandTimeout:  10 * time.Second,
		SessionTimeout:  30 * time.Second,
	}
	if sc.source {
		if err := probe.CheckLocalAddr(netip.MustParseAddr(sc.client)); err != nil {
			t.Fatal(err)
		}
		cfg.Dial, cfg.LocalAddr = nil, netip.MustParseAddr(sc.client)
	}
	target := probe.Target{Host: postfixHostname, Addr: pf.Addr}
	switch sc.via {
	case "early":
		target.Addr = pf.Early
	case "screen":
		target.Addr = pf.Screen
	case "rate":
		target.Addr = pf.Rate
	case "badtls":
		target.Addr = pf.BadTLS
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	s := probe.DryRun(ctx, cfg, target)
	if s == nil {
		t.Fatal("DryRun returned nil")
	}
	return s
}

// checkPostfixSession asserts the session's status, every reply the probe
// recorded, and where the session ended.
func checkPostfixSession(t *testing.T, sc postfixScenario, s *probe.Session) {
	t.Helper()
	if s.Status != sc.wantStatus {
		t.Errorf("status %q (%s), want %q", s.Status, s.Detail, sc.wantStatus)
	}
	if host, _, _ := net.SplitHostPort(s.LocalAddr); host != sc.client {
		t.Errorf("session ran from %q, want client address %s", s.LocalAddr, sc.client)
	}
	checkFindings(t, sc, s)
	defer func() {
		// The transcript never names DATA or BDAT as a command.
		for _, st := range s.Steps {
			if v := strings.ToUpper(strings.TrimSpace(st.Command)); strings.HasPrefix(v, "DATA") || strings.HasPrefix(v, "BDAT") {
				t.Errorf("the probe sent %q", st.Command)
			}
		}
	}()
	quit := func() {
		if sc.noQuit {
			if s.Quit != nil {
				t.Errorf("QUIT answered %v, expected none", s.Quit)
			}
			return
		}
		reply(catalog.StageQUIT, 221, "2.0.0", `^Bye$`, "").check(t, "QUIT", s.Quit)
	}
	ended := func(stage string) {
		if len(s.MailFrom) != 0 || len(s.Rcpts) != 0 {
			t.Errorf("after the %s the probe went on: MAIL %+v, RCPT %+v", stage, s.MailFrom, s.Rcpts)
		}
		quit()
	}

	if sc.greeting != nil {
		sc.greeting.check(t, "greeting", s.Greeting)
		if s.EHLO != nil {
			t.Errorf("EHLO sent after a %d greeting: %v", s.Greeting.Code, s.EHLO)
		}
		ended("greeting")
		return
	}
	banner := `^mx\.postfix\.test ESMTP Postfix \(Debian/GNU\)$`
	if sc.via == "screen" {
		// postscreen's greeting test (a client new to its cache): "220-"
		// at once, the last line postscreen_greet_wait (2 s) later, to
		// catch clients that talk before the greeting ends.
		banner = `^mx\.postfix\.test ESMTP Postfix \(Debian/GNU\)\nmx\.postfix\.test ESMTP Postfix \(Debian/GNU\)$`
		if g := time.Duration(s.Timings.Greeting); g < 2*time.Second {
			t.Errorf("greeting took %v; postscreen_greet_wait is 2s", g)
		}
		if s.Greeting != nil && (len(s.Greeting.Lines) != 2 || !strings.HasPrefix(s.Greeting.Lines[0], "220-")) {
			t.Errorf("greeting lines %q, want 220- then 220", s.Greeting.Lines)
		}
	}
	reply(catalog.StageConnect, 220, "", banner, "").check(t, "greeting", s.Greeting)
	if s.BannerHost != postfixHostname {
		t.Errorf("banner host %q, want %q", s.BannerHost, postfixHostname)
	}
	if s.HELOName != sc.helo || s.HELOFallback {
		t.Errorf("said HELO %q (fallback %v), want EHLO %q", s.HELOName, s.HELOFallback, sc.helo)
	}
	if sc.ehlo != nil {
		sc.ehlo.check(t, "EHLO", s.EHLO)
		if s.STARTTLS != nil {
			t.Errorf("STARTTLS sent after EHLO was refused")
		}
		ended("EHLO refusal")
		return
	}

	// With smtpd_delay_reject = yes, EHLO is accepted whatever the name.
	reply(catalog.StageEHLO, 250, "", `^mx\.postfix\.test\n`, "").check(t, "EHLO", s.EHLO)
	for _, kw := range []string{"PIPELINING", "SIZE", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING"} {
		// postscreen's own SMTP engine does not offer PIPELINING
		// (postscreen_pipelining_enable = no, the default).
		if want := kw != "PIPELINING" || !sc.screened; s.Extensions.Has(kw) != want {
			t.Errorf("EHLO extensions %v: %s offered = %v, want %v", s.Extensions.Keywords(), kw, !want, want)
		}
	}
	if size, ok := s.Extensions.Size(); !ok || size != 10240000 {
		t.Errorf("SIZE = %d, %v; want Postfix's default message_size_limit 10240000", size, ok)
	}
	if sc.starttls != nil {
		sc.starttls.check(t, "STARTTLS", s.STARTTLS)
		if s.TLS != nil || len(s.ExtensionsTLS) != 0 {
			t.Errorf("TLS recorded after a refused STARTTLS: %+v, %v", s.TLS, s.ExtensionsTLS)
		}
	} else {
		reply(catalog.StageSTARTTLS, 220, "2.0.0", `^Ready to start TLS$`, "").check(t, "STARTTLS", s.STARTTLS)
		if s.TLS == nil || s.TLS.Handshake != "ok" || !s.TLS.Verified {
			t.Errorf("TLS after STARTTLS: %+v, want a verified handshake", s.TLS)
		} else if !strings.HasPrefix(s.TLS.Version, "TLS") {
			t.Errorf("TLS version %q", s.TLS.Version)
		}
		if !s.ExtensionsTLS.Has("ENHANCEDSTATUSCODES") || s.ExtensionsTLS.Has("STARTTLS") {
			t.Errorf("extensions after TLS %v: want the list without STARTTLS", s.ExtensionsTLS.Keywords())
		}
	}
	if len(s.MailFrom) != 1 || s.MailFrom[0].From != "" {
		t.Fatalf("MAIL FROM attempts %+v, want one with the null reverse-path", s.MailFrom)
	}
	reply(catalog.StageMAIL, 250, "2.1.0", `^Ok$`, "").check(t, "MAIL FROM:<>", s.MailFrom[0].Reply)

	seen := map[probe.RcptKind]bool{}
	for _, r := range s.Rcpts {
		w, ok := sc.want[r.Kind]
		if !ok {
			t.Errorf("unexpected RCPT %s <%s>: %v", r.Kind, r.Address, r.Reply)
			continue
		}
		seen[r.Kind] = true
		if r.Error != "" {
			t.Errorf("RCPT %s <%s>: error %s", r.Kind, r.Address, r.Error)
		}
		w.check(t, "RCPT TO:<"+r.Address+"> ("+string(r.Kind)+")", r.Reply)
		if r.Accepted() != (w.code/100 == 2) {
			t.Errorf("RCPT %s: Accepted() = %v for %d", r.Kind, r.Accepted(), w.code)
		}
	}
	for k := range sc.want {
		if !seen[k] {
			t.Errorf("no RCPT of kind %s was sent", k)
		}
	}
	quit()
}

// checkFindings asserts the report findings the session yields.
func checkFindings(t *testing.T, sc postfixScenario, s *probe.Session) {
	t.Helper()
	got := map[string]report.Severity{}
	var list []string
	for _, f := range s.Findings(probe.FindingOptions{}) {
		got[f.ID] = f.Severity
		list = append(list, fmt.Sprintf("%s %s: %s", f.Severity, f.ID, f.Summary))
	}
	for id, sev := range sc.findings {
		if g, ok := got[id]; !ok || g != sev {
			t.Errorf("finding %s: got %q, want %q; findings:\n%s", id, g, sev, strings.Join(list, "\n"))
		}
	}
	for _, id := range neverFindings {
		if _, ok := got[id]; ok {
			t.Errorf("finding %s reported against Postfix; findings:\n%s", id, strings.Join(list, "\n"))
		}
	}
	if sc.client == "127.0.1.11" { // the blocklisted client
		for _, id := range clientRefusedNever {
			if _, ok := got[id]; ok {
				t.Errorf("finding %s reported for a client refused for itself; findings:\n%s", id, strings.Join(list, "\n"))
			}
		}
	}
}

// checkNothingDelivered is the safety invariant: Postfix's queue is empty
// and, by Postfix's own account of every session, no client sent DATA or
// BDAT. Each session is matched with what Postfix logged about it, and the
// counts of commands compared with the probe's transcript, so the proof
// cannot rest on an empty or unrelated log.
func checkNothingDelivered(t *testing.T, pf *postfixPeer, runs []postfixRun, drain time.Duration, errorf func(format string, args ...any)) {
	// Every message smtpd accepts goes through cleanup into the queue and
	// stays there (local delivery is deferred, everything else is an
	// error transport), so a received message would leave a queue file.
	// A transaction that ends without DATA leaves none: smtpd opens a queue
	// file at the first accepted RCPT and cleanup discards it at QUIT.
	// The last session's file may still be in incoming/ for a moment
	// after QUIT; a received message would stay in the queue for good.
	var files []string
	for deadline := time.Now().Add(drain); ; time.Sleep(50 * time.Millisecond) {
		files = pf.QueueFiles(t)
		if len(files) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(files) != 0 {
		errorf("Postfix's queue holds %d files: %v", len(files), files)
	}
	if q := pf.Postqueue(t); !strings.Contains(q, "Mail queue is empty") {
		errorf("postqueue -p:\n%s", q)
	}
	log := pf.Log()
	for _, bad := range []string{"/cleanup[", "/qmgr[", "message-id=", "queued as", "/local[", "/error[", " DATA ", " BDAT "} {
		if strings.Contains(log, bad) {
			errorf("the Postfix log has %q: a message was received or delivered", bad)
		}
	}

	// smtpd's sessions, in order: every session that reached smtpd
	// (directly or handed over by postscreen) has a disconnect line with
	// smtpd's count of each command the client sent. The sessions ran one
	// after the other, so the order matches.
	// Every smtpd session from a test client, the probe's and any other:
	// smtpd counts each command the client sent, DATA and BDAT included,
	// accepted or not.
	all := pf.Sessions(postfixClient)
	for _, l := range all {
		for _, verb := range []string{"data", "bdat"} {
			if n, ok := l.Sent[verb]; ok {
				errorf("Postfix counted %s=%d: %s", verb, n, l.Raw)
			}
		}
	}
	// Each probe session that reached smtpd, against smtpd's account of it.
	viaSMTPD := 0
	for _, r := range runs {
		if r.sc.screened {
			continue
		}
		viaSMTPD++
		l := r.logged
		if l == nil {
			errorf("%s: smtpd logged no end of the session", r.sc.name)
			continue
		}
		if host, _, _ := net.SplitHostPort(r.s.LocalAddr); host != l.IP {
			errorf("%s: Postfix logged client %s, the probe dialed from %s", r.sc.name, l.IP, r.s.LocalAddr)
		}
		cmds, accepted := commandCounts(r.s)
		if l.Sent["commands"] != cmds || l.Sent["rcpt"] != len(r.s.Rcpts) || l.Sent["mail"] != len(r.s.MailFrom) || l.OK["rcpt"] != accepted {
			errorf("%s: Postfix counted %q; the probe sent %d commands, %d MAIL, %d RCPT of which %d accepted",
				r.sc.name, l.Raw, cmds, len(r.s.MailFrom), len(r.s.Rcpts), accepted)
		}
	}
	if len(all) != viaSMTPD {
		errorf("Postfix's smtpd logged %d sessions from 127.0.1.0/24, the probe ran %d through smtpd", len(all), viaSMTPD)
	}

	// Sessions postscreen kept to itself: its SMTP engine never accepts a
	// recipient, so no message can pass; still, its log of the session (by
	// client address and port) must show the RCPTs the probe sent and
	// nothing else reaching a transaction.
	for _, r := range runs {
		if !r.sc.screened {
			continue
		}
		host, port, _ := net.SplitHostPort(r.s.LocalAddr)
		peer := "[" + host + "]:" + port
		var connect, disconnect, rejects int
		for _, line := range strings.Split(log, "\n") {
			if !strings.Contains(line, "/postscreen[") || !strings.Contains(line, peer) {
				continue
			}
			switch {
			case strings.Contains(line, ": CONNECT from "+peer):
				connect++
			case strings.Contains(line, ": DISCONNECT "+peer):
				disconnect++
			case strings.Contains(line, ": NOQUEUE: reject: RCPT from "+peer+":"):
				rejects++
			case strings.Contains(line, ": DNSBL rank "):
			default:
				errorf("%s: unexpected postscreen line: %s", r.sc.name, line)
			}
		}
		if connect != 1 || disconnect != 1 || rejects != len(r.s.Rcpts) {
			errorf("%s: postscreen logged %d CONNECT, %d DISCONNECT, %d RCPT rejects for %s; the probe sent %d RCPT",
				r.sc.name, connect, disconnect, rejects, peer, len(r.s.Rcpts))
		}
	}
}

// commandCounts is the number of commands in the session's transcript and
// of RCPTs the server accepted.
func commandCounts(s *probe.Session) (commands, acceptedRcpts int) {
	for _, st := range s.Steps {
		if st.Command != "" {
			commands++
		}
	}
	for _, r := range s.Rcpts {
		if r.Accepted() {
			acceptedRcpts++
		}
	}
	return commands, acceptedRcpts
}

// TestParseDisconnect proves the invariant's log reading on genuine Postfix
// lines, including sessions that did send DATA and BDAT.
func TestParseDisconnect(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		ok         bool
		ip         string
		sent, acc  map[string]int
	}{
		{
			name: "probe session",
			line: "Nov 26 23:30:01 mx postfix-mxray/smtpd[14002]: disconnect from good.client.test[127.0.1.10] ehlo=2 starttls=1 mail=1 rcpt=1/3 quit=1 commands=6/8",
			ok:   true, ip: "127.0.1.10",
			sent: map[string]int{"ehlo": 2, "starttls": 1, "mail": 1, "rcpt": 3, "quit": 1, "commands": 8},
			acc:  map[string]int{"ehlo": 2, "starttls": 1, "mail": 1, "rcpt": 1, "quit": 1, "commands": 6},
		},
		{
			name: "a client that sent a message",
			line: "Nov 26 23:30:02 mx postfix/smtpd[1]: disconnect from unknown[127.0.1.12] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
			ok:   true, ip: "127.0.1.12",
			sent: map[string]int{"ehlo": 1, "mail": 1, "rcpt": 1, "data": 1, "quit": 1, "commands": 5},
			acc:  map[string]int{"ehlo": 1, "mail": 1, "rcpt": 1, "data": 1, "quit": 1, "commands": 5},
		},
		{
			name: "BDAT rejected",
			line: "Nov 26 23:30:03 mx postfix/smtpd[2]: disconnect from a.test[127.0.1.10] ehlo=1 mail=1 rcpt=0/1 bdat=0/1 commands=2/4",
			ok:   true, ip: "127.0.1.10",
			sent: map[string]int{"ehlo": 1, "mail": 1, "rcpt": 1, "bdat": 1, "commands": 4},
			acc:  map[string]int{"ehlo": 1, "mail": 1, "rcpt": 0, "bdat": 0, "commands": 2},
		},
		{name: "connect line", line: "Nov 26 23:30:01 mx postfix-mxray/smtpd[14002]: connect from good.client.test[127.0.1.10]"},
		{name: "other daemon", line: "Nov 26 23:30:01 mx postfix/postscreen[1]: disconnect from [127.0.1.10]:1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := parseDisconnect(tc.line)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if s.IP != tc.ip {
				t.Errorf("IP %q, want %q", s.IP, tc.ip)
			}
			if !maps.Equal(s.Sent, tc.sent) || !maps.Equal(s.OK, tc.acc) {
				t.Errorf("sent %v, accepted %v\nwant %v, %v", s.Sent, s.OK, tc.sent, tc.acc)
			}
		})
	}
}

// postfixControl is the client address of the control session, the one
// session in these tests that sends a message (not through the probe).
const postfixControl = "127.0.1.20"

// postfixClient selects the sessions of every test client (127.0.1.0/24),
// not the harness's readiness checks from 127.0.0.1.
func postfixClient(ip string) bool { return strings.HasPrefix(ip, "127.0.1.") }

// sendControlMessage submits one message to the instance with a bare
// net/textproto client: proof that the invariant check is able to fail.
// Local delivery is deferred, so the message stays in the queue.
func sendControlMessage(t *testing.T, pf *postfixPeer) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(postfixControl)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", pf.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	c := textproto.NewConn(conn)
	step := func(cmd string, code int) {
		t.Helper()
		if cmd != "" {
			if err := c.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, msg, err := c.ReadResponse(code); err != nil {
			t.Fatalf("control session, %q: %v %s", cmd, err, msg)
		}
	}
	step("", 220)
	step("EHLO control.client.test", 250)
	step("MAIL FROM:<control@client.test>", 250)
	step("RCPT TO:<postmaster@"+postfixDomain+">", 250)
	step("DATA", 354)
	w := c.DotWriter()
	fmt.Fprintf(w, "From: <control@client.test>\r\nTo: <postmaster@%s>\r\nSubject: control\r\nMessage-ID: <control@client.test>\r\n\r\ncontrol message\r\n", postfixDomain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	step("", 250)
	step("QUIT", 221)
}

// BenchmarkPostfixDryRun measures one whole dry run (greeting, EHLO,
// STARTTLS with a verified certificate, EHLO, MAIL, RCPT postmaster, QUIT)
// against the real Postfix, from a client with a PTR and no listing.
func BenchmarkPostfixDryRun(b *testing.B) {
	pf := startPostfix(b, postfixZone, []string{"postmaster@" + postfixDomain})
	sc := postfixScenario{client: "127.0.1.10", helo: "good.client.test", domain: postfixDomain, noCatchAll: true, noRelay: true}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s := dryRunFrom(b, pf, sc); s.Status != probe.StatusOK || len(s.Rcpts) != 1 || !s.Rcpts[0].Accepted() {
			b.Fatalf("status %s (%s), RCPT %+v", s.Status, s.Detail, s.Rcpts)
		}
	}
}

// checkMaillog scans the instance's log with report/maillog.
func checkMaillog(t *testing.T, log string) {
	rejects := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ": reject: ") {
			rejects++
		}
	}
	if rejects == 0 {
		t.Skip("no scenario ran (a -run filter): nothing was rejected")
	}
	var events []*maillog.Event
	s := maillog.NewScanner(strings.NewReader(log), maillog.Options{})
	if err := s.Scan(func(ev *maillog.Event) error { events = append(events, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	inbound := 0
	for _, ev := range events {
		if ev.Direction != maillog.Inbound {
			continue
		}
		inbound++
		want := catalog.StageRCPT
		switch {
		case strings.Contains(ev.Line, "reject: CONNECT from"):
			want = catalog.StageConnect
		case strings.Contains(ev.Line, "reject: EHLO from"):
			want = catalog.StageEHLO
		}
		if ev.Stage != want || ev.Code == 0 || ev.EnhancedCode == "" || ev.RemoteIP == "" || ev.Reason == "" {
			t.Errorf("event from %q: stage %s, %d %s, ip %q, reason %q", ev.Line, ev.Stage, ev.Code, ev.EnhancedCode, ev.RemoteIP, ev.Reason)
		}
		if strings.Contains(ev.Line, "blocked using "+postfixDNSBL) && (ev.Reason != "blocked" || ev.Captures["zone"] != postfixDNSBL) {
			t.Errorf("DNSBL reject read as %s %v: %s", ev.Reason, ev.Captures, ev.Line)
		}
	}
	if inbound != rejects {
		t.Errorf("%d reject lines, %d inbound events", rejects, inbound)
	}
}
