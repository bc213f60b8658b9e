package probe

// Findings: what one session says about the server, as report findings
// with stable ids. Only what the session observed is judged: a session that
// ended at a 421 or a timeout says nothing about STARTTLS or recipients.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/report/catalog"

	"github.com/mxray/mxray/report"
)

// FindingOptions carry what the session alone does not know.
type FindingOptions struct {
	// PTR are the reverse-DNS names of the address (nil: not looked up);
	// PTRStatus is the lookup status ("ok", "nxdomain", ...).
	PTR       []string
	PTRStatus string
	// Now is the clock for certificate expiry; zero: time.Now.
	Now time.Time
	// ExpiryWarning is how close to expiry a certificate warns; default 14 days.
	ExpiryWarning time.Duration
	// SlowGreeting is the greeting time that warns; default 10 s.
	SlowGreeting time.Duration
	// Submission judges a submission port (587/465): clients verify
	// certificates and must not send passwords in clear.
	Submission bool
}

const (
	refGreeting = "RFC 5321 §4.3.1"
	refEHLO     = "RFC 5321 §4.1.1.1"
	refSTARTTLS = "RFC 3207"
	refPM       = "RFC 5321 §4.5.1"
)

// Findings judges the session.
func (s *Session) Findings(o FindingOptions) []report.Finding {
	o = o.withDefaults()
	f := s.finder()
	// How the session ended, when nothing else in it can be judged.
	if out := s.earlyEndFindings(f); out != nil {
		return out
	}
	var out []report.Finding
	out = append(out, s.endFindings(o, f)...)
	out = append(out, s.slowGreetingFindings(o, f)...)
	out = append(out, s.slowReplyFindings(o, f)...)
	if s.Greeting != nil && s.Greeting.Code == 220 {
		out = append(out, s.bannerFindings(o, f)...)
	}
	out = append(out, s.heloFallbackFindings(f)...)
	out = append(out, s.plainRetryFindings(f)...)

	// Nothing below can be judged without a completed EHLO.
	if s.EHLO == nil || s.EHLO.Code != 250 {
		return out
	}
	out = append(out, s.tlsFindings(o, f)...)
	out = append(out, s.extensionFindings(o, f)...)
	out = append(out, s.authFindings(f)...)
	out = append(out, s.transactionFindings(f)...)
	return out
}

// withDefaults fills in the zero fields of o.
func (o FindingOptions) withDefaults() FindingOptions {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ExpiryWarning == 0 {
		o.ExpiryWarning = 14 * 24 * time.Hour
	}
	if o.SlowGreeting == 0 {
		o.SlowGreeting = 10 * time.Second
	}
	return o
}

// finder makes findings whose subject is this session's server.
func (s *Session) finder() mk {
	subj := fmt.Sprintf("%s (%s)", s.Host, s.Addr)
	return func(id string, sev report.Severity, summary string) report.Finding {
		return report.Finding{ID: id, Severity: sev, Subject: subj, Summary: summary}
	}
}

// earlyEndFindings judges a session that ended so early (no connection,
// canceled, no greeting, refused at the greeting) that nothing else in it
// can be judged; nil for any other session.
func (s *Session) earlyEndFindings(f mk) []report.Finding {
	switch s.Status {
	case StatusConnectionRefused:
		// A refusal (TCP RST, or ICMP port unreachable) is the host's own
		// answer: it came back from the address, so the path is open and
		// the host says no (RFC 9293 §3.10.7.1: a SYN to a closed port is
		// answered with a reset).
		x := f("smtp.connection-refused", report.Failure, fmt.Sprintf("the host refused the connection to port %d (TCP reset)", s.Port))
		x.Evidence = []string{s.Detail}
		x.Cause = "nothing listens on the port, or the host's firewall rejects connections to it; senders that try this address fail the same way"
		x.Fix = "start the mail server on this address and port, or open the port in the host's firewall; remove the address from DNS if it is not meant to receive mail"
		x.References = []string{"RFC 9293 §3.10.7.1", "RFC 5321 §5.1"}
		return []report.Finding{x}
	case StatusConnectionTimeout, StatusConnectionError, StatusNetworkUnreachable:
		x := f("smtp.connect-failed", report.Unknown, fmt.Sprintf("could not connect to port %d: %s", s.Port, s.Status))
		x.Evidence = []string{s.Detail}
		x.Cause = "no answer came back: the host is down, or a firewall drops the packets — at the host, or on this network (many providers filter outgoing port 25)"
		x.Fix = "check from another network; if it fails there too, start the mail server or open the port in its firewall"
		return []report.Finding{x}
	case StatusCanceled:
		x := f("smtp.canceled", report.Unknown, "the session was canceled before it ended")
		if s.Detail != "" {
			x.Evidence = []string{s.Detail}
		}
		return []report.Finding{x}
	case StatusGreetingTimeout:
		x := f("smtp.greeting-timeout", report.Unknown, "the server accepted the connection but sent no complete greeting in time")
		x.Evidence = append([]string{s.Detail}, s.Transcript()...)
		x.Cause = "an overloaded server, a tarpit, or a connection-level filter that holds suspicious clients"
		x.Fix = "retry later; if it persists, check the server's load and its connection limits"
		x.References = []string{"RFC 5321 §4.5.3.2"}
		return []report.Finding{x}
	case StatusRejectedAtGreeting:
		x := f("smtp.rejected-at-greeting", report.Failure, "the server refused us at the greeting: "+s.Greeting.String())
		if s.Greeting.Transient() {
			x.Severity = report.Unknown
		}
		x.Evidence = append([]string{s.Detail}, s.Transcript()...)
		e := s.Greeting.Explain
		x.Cause = "a refusal at the greeting is about the client's IP address (RFC 5321 §3.1): " + e.Summary
		x.Fix = e.Fix
		if x.Fix == "" {
			x.Fix = "if this network's IP should be able to send, find out why the server refuses it (blocklists, reverse DNS)"
		}
		x.References = append([]string{"RFC 5321 §3.1", refGreeting}, e.References...)
		return []report.Finding{x}
	}
	return nil
}

// endFindings judges how a session that got under way ended before its
// QUIT: closed or limited by the server, too slow, broken, or refused at
// TLS or EHLO. What came before the end is judged all the same.
func (s *Session) endFindings(o FindingOptions, f mk) []report.Finding {
	var x report.Finding
	switch s.Status {
	case StatusRateLimited:
		x = f("smtp.rate-limited", report.Unknown, "the server is limiting connections and ended the session: "+s.Detail)
		x.Evidence = s.Transcript()
		x.Cause = "too many connections from this address (or the server is overloaded); the rest of the check could not be observed"
		x.Fix = "retry later; senders retry 421 replies (RFC 5321 §4.2.5)"
		x.References = []string{"RFC 5321 §3.8", "RFC 5321 §4.2.5"}
	case StatusClosedByServer:
		x = f("smtp.closed-by-server", report.Unknown, "the server ended the session early: "+s.Detail)
		x.Evidence = s.Transcript()
		x.Cause = "a 421 reply closes the session (RFC 5321 §3.8): the server is shutting down, overloaded, or gave up on the client; what came after could not be observed"
		x.Fix = "retry later; if it persists, read the server's log for the reason"
		x.References = []string{"RFC 5321 §3.8"}
	case StatusTarpitting, StatusSessionTimeout:
		x = f("smtp.tarpitting", report.Unknown, "the server stopped answering in time: "+s.Detail)
		x.Evidence = s.Transcript()
		x.Cause = "the server delays replies (tarpitting suspicious clients, or overload); senders wait up to 5 minutes per command (RFC 5321 §4.5.3.2)"
		x.Fix = "if the delay is deliberate, make sure legitimate senders are not caught by it"
		x.References = []string{"RFC 5321 §4.5.3.2"}
	case StatusProtocolError:
		x = f("smtp.protocol-error", report.Failure, "the server broke the SMTP protocol: "+s.Detail)
		x.Evidence = s.Transcript()
		x.Cause = "a malformed or oversized reply, or a connection closed mid-session; senders will fail the same way"
		x.Fix = "check the server (or a proxy/firewall in front of it that rewrites SMTP)"
		x.References = []string{"RFC 5321 §4.2"}
	case StatusTLSHandshakeFailed:
		x = f("smtp.tls-handshake-failed", report.Failure, "the TLS handshake failed: "+s.Detail)
		if !s.Submission(o) {
			x.Severity = report.Warning
			x.Cause = "senders that try STARTTLS fail; most then retry in plaintext, but senders that require TLS (MTA-STS, DANE) cannot deliver"
		} else {
			x.Cause = "mail clients cannot connect securely, so they cannot submit mail"
		}
		x.Evidence = s.Transcript()
		x.Fix = "check the server's certificate and key files and its TLS protocol/cipher settings"
		x.References = []string{refSTARTTLS, "RFC 8314"}
	case StatusRejectedAtHELO:
		x = f("smtp.helo-rejected", report.Failure, "the server refused our EHLO/HELO: "+s.EHLO.String())
		x.Evidence = s.Transcript()
		x.Cause = "the server rejects the client's greeting name: " + s.EHLO.Explain.Summary
		x.Fix = "run mxray with --helo set to a fully qualified name of this host that resolves"
		x.References = []string{refEHLO}
	default:
		return nil
	}
	return []report.Finding{x}
}

// slowGreetingFindings: postscreen waits about 6 s; beyond 10 s senders
// and monitors notice.
func (s *Session) slowGreetingFindings(o FindingOptions, f mk) []report.Finding {
	if s.Greeting == nil || time.Duration(s.Timings.Greeting) <= o.SlowGreeting {
		return nil
	}
	// Info: RFC 5321 §4.5.3.2.1 gives clients 5 minutes for the greeting,
	// and delays are often deliberate (Postfix postscreen waits 6 s).
	x := f("smtp.slow-greeting", report.Info, fmt.Sprintf("the greeting took %s", time.Duration(s.Timings.Greeting).Round(time.Millisecond)))
	x.Evidence = []string{s.Greeting.String()}
	x.Cause = "a greeting delay (postscreen, tarpit, reverse DNS lookups on the server, or load) slows every delivery"
	x.Fix = "check the server's DNS resolver and connection filters"
	return []report.Finding{x}
}

// slowReplyFindings: slow replies that did come, a tarpit that stays
// under the deadline.
func (s *Session) slowReplyFindings(o FindingOptions, f mk) []report.Finding {
	var slow []string
	for _, st := range s.Steps {
		if st.Command != "" && st.Reply != nil && time.Duration(st.Duration) > o.SlowGreeting {
			slow = append(slow, fmt.Sprintf("%s → %d after %s", printable(st.Command), st.Reply.Code, time.Duration(st.Duration).Round(time.Millisecond)))
		}
	}
	if len(slow) == 0 {
		return nil
	}
	// Info: senders wait minutes per reply (RFC 5321 §4.5.3.2); the delay
	// costs time, not mail.
	x := f("smtp.slow-replies", report.Info, fmt.Sprintf("%d command(s) took longer than %s to answer (tarpitting or overload)", len(slow), o.SlowGreeting))
	x.Evidence = slow
	x.Cause = "servers delay replies to slow down suspected spammers (tarpitting) or when overloaded; every sender pays the delay"
	x.Fix = "check the server's load, its DNS resolver, and delay settings (Postfix: smtpd_error_sleep_time, smtpd_soft_error_limit)"
	x.References = []string{"RFC 5321 §4.5.3.2"}
	return []report.Finding{x}
}

// heloFallbackFindings: the server answered EHLO with 500/502 and took
// HELO instead.
func (s *Session) heloFallbackFindings(f mk) []report.Finding {
	if !s.HELOFallback || s.EHLO == nil || s.EHLO.Code != 250 {
		return nil
	}
	x := f("smtp.no-ehlo", report.Warning, "the server does not support EHLO; HELO was used")
	x.Evidence = s.Transcript()
	x.Cause = "without EHLO there are no extensions: no STARTTLS, no SIZE, no 8BITMIME"
	x.Fix = "enable ESMTP on the server (or remove the proxy that hides it)"
	x.References = []string{refEHLO, "RFC 5321 §4.1.4"}
	return []report.Finding{x}
}

// plainRetryFindings judges the plaintext session after a failed TLS
// handshake: how it ended and, past EHLO, its mail transaction.
func (s *Session) plainRetryFindings(f mk) []report.Finding {
	r := s.PlainRetry
	if r == nil {
		return nil
	}
	x := f("smtp.plaintext-retry", report.Info, "after the failed TLS handshake, a plaintext session (as opportunistic senders retry) ended: "+string(r.Status))
	x.Evidence = r.Transcript()
	out := []report.Finding{x}
	if r.EHLO != nil && r.EHLO.Code == 250 {
		out = append(out, r.transactionFindings(f)...)
	}
	return out
}

// authFindings judges AUTH PLAIN with the credentials given, if any.
func (s *Session) authFindings(f mk) []report.Finding {
	a := s.Auth
	if a == nil {
		return nil
	}
	switch {
	case a.Skipped != "":
		x := f("smtp.auth-not-tried", report.Unknown, "the credentials were not tried: "+a.Skipped)
		return []report.Finding{x}
	case a.Reply.Positive():
		x := f("smtp.auth-ok", report.OK, "AUTH PLAIN as "+a.Username+" succeeded: "+a.Reply.String())
		return []report.Finding{x}
	case a.Reply != nil:
		x := f("smtp.auth-failed", report.Failure, "AUTH PLAIN as "+a.Username+" failed: "+a.Reply.String())
		x.Evidence = []string{a.Reply.String()}
		x.Cause = a.Reply.Explain.Summary
		x.Fix = a.Reply.Explain.Fix
		x.References = append([]string{"RFC 4954 §6"}, a.Reply.Explain.References...)
		return []report.Finding{x}
	}
	return nil
}

// Submission reports whether the session is judged as mail submission.
func (s *Session) Submission(o FindingOptions) bool {
	return o.Submission || s.Port == 587 || s.Port == 465
}

type mk func(id string, sev report.Severity, summary string) report.Finding

// bannerFindings compares the name in the banner with the PTR of the
// address and the name in the EHLO reply (MXToolbox's "SMTP banner check").
// RFC 5321 §4.3.1 has the server's name first in the greeting; receivers
// that check the sender's forward-confirmed reverse DNS expect the same of
// a server that also sends.
func (s *Session) bannerFindings(o FindingOptions, f mk) []report.Finding {
	var out []report.Finding
	ev := []string{"banner: " + s.Greeting.String()}
	if s.EHLO != nil {
		ev = append(ev, "EHLO reply: "+s.EHLO.Lines[0])
	}
	if o.PTR != nil || o.PTRStatus != "" {
		names := strings.Join(o.PTR, ", ")
		if names == "" {
			names = "(none)"
		}
		ip := s.Addr
		if h, _, err := net.SplitHostPort(s.Addr); err == nil {
			ip = h
		}
		ev = append(ev, fmt.Sprintf("PTR of %s: %s (lookup: %s)", ip, names, o.PTRStatus))
	}
	if !looksLikeHost(s.BannerHost) {
		x := f("smtp.banner-no-hostname", report.Warning, fmt.Sprintf("the greeting does not start with a host name (%q)", s.BannerHost))
		x.Evidence = ev
		x.Cause = "RFC 5321 §4.3.1: the 220 greeting starts with the server's fully qualified name; some receivers and reputation checks compare it with the PTR"
		x.Fix = "set the server's host name (Postfix: myhostname; smtpd_banner = $myhostname ESMTP)"
		x.References = []string{refGreeting}
		return append(out, x)
	}
	switch {
	case o.PTRStatus != "" && o.PTRStatus != "ok" && len(o.PTR) == 0:
		x := f("smtp.banner-ptr-unknown", report.Info, "the banner name could not be compared with reverse DNS: the address has no PTR ("+o.PTRStatus+")")
		x.Evidence = ev
		out = append(out, x)
	case len(o.PTR) > 0 && !containsFold(o.PTR, s.BannerHost):
		// Info: no standard asks the banner name to equal the PTR, and it
		// does not stop delivery.
		x := f("smtp.banner-ptr-mismatch", report.Info, fmt.Sprintf("the banner says %s, the PTR of the address says %s", s.BannerHost, strings.Join(o.PTR, ", ")))
		x.Evidence = ev
		x.Cause = "a banner name that differs from the reverse DNS looks like a misconfigured or hijacked host to some filters (MXToolbox reports it); it does not stop delivery to this server"
		x.Fix = "make the banner name, the EHLO name and the PTR the same fully qualified name (and that name resolve to the address)"
		x.References = []string{refGreeting}
		out = append(out, x)
	case len(o.PTR) > 0:
		x := f("smtp.banner-ptr-match", report.OK, "the banner name "+s.BannerHost+" matches the reverse DNS of the address")
		x.Evidence = ev
		out = append(out, x)
	}
	if s.EHLOHost != "" && looksLikeHost(s.EHLOHost) && !strings.EqualFold(s.EHLOHost, s.BannerHost) {
		x := f("smtp.banner-ehlo-mismatch", report.Info, fmt.Sprintf("the banner says %s, the EHLO reply says %s", s.BannerHost, s.EHLOHost))
		x.Evidence = ev
		x.Cause = "usually a load balancer or a proxy in front of the server, or two different host name settings"
		x.Fix = "use the same name in the banner and the EHLO reply"
		out = append(out, x)
	}
	return out
}

// tlsFindings judges STARTTLS and, after a completed handshake, the TLS
// version and the certificate.
func (s *Session) tlsFindings(o FindingOptions, f mk) []report.Finding {
	sub := s.Submission(o)
	out := s.starttlsFindings(sub, f)
	t := s.TLS
	if t == nil || t.Handshake != "ok" {
		return out
	}
	chainEv := chainEvidence(t)
	out = append(out, tlsVersionFindings(t, chainEv, f)...)
	out = append(out, certificateFinding(t, sub, chainEv, f))
	out = append(out, expiryFindings(t, o, sub, chainEv, f)...)
	return out
}

// starttlsFindings: STARTTLS not offered, or offered and then refused.
func (s *Session) starttlsFindings(sub bool, f mk) []report.Finding {
	var out []report.Finding
	if s.Mode == ModeSTARTTLS && !s.Extensions.Has("STARTTLS") {
		sev, cause := report.Warning, "mail to this server travels in clear text; senders that require TLS (MTA-STS enforce, DANE) cannot deliver, and Gmail marks such mail as unencrypted"
		if sub {
			sev, cause = report.Failure, "mail clients would have to send passwords and mail in clear text; RFC 8314 requires TLS for submission"
		}
		x := f("smtp.starttls-missing", sev, "the server does not offer STARTTLS")
		x.Evidence = []string{"EHLO reply: " + s.EHLO.String()}
		x.Cause = cause
		x.Fix = "configure a certificate and enable STARTTLS (Postfix: smtpd_tls_cert_file, smtpd_tls_key_file, smtpd_tls_security_level = may)"
		x.References = []string{refSTARTTLS, "RFC 8314 §3"}
		out = append(out, x)
	}
	if s.STARTTLS != nil && s.STARTTLS.Code != 220 && s.STARTTLS.Code != 421 {
		x := f("smtp.starttls-refused", report.Warning, "the server offers STARTTLS but refused it: "+s.STARTTLS.String())
		if sub {
			x.Severity = report.Failure
		}
		x.Evidence = []string{s.STARTTLS.String()}
		x.Cause = "STARTTLS is advertised but not working (often a missing or unreadable certificate or key file): " + s.STARTTLS.Explain.Summary
		x.Fix = "check the server's TLS certificate and key configuration and its log"
		x.References = []string{"RFC 3207 §4"}
		out = append(out, x)
	}
	return out
}

// chainEvidence is the handshake note and one line per certificate of
// the chain.
func chainEvidence(t *TLSInfo) []string {
	chainEv := []string{tlsNote(t)}
	for i, c := range t.Chain {
		chainEv = append(chainEv, fmt.Sprintf("cert[%d] subject=%s issuer=%s names=%s valid %s..%s",
			i, c.Subject, c.Issuer, certNames(c), c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02")))
	}
	return chainEv
}

// tlsVersionFindings: a TLS version older than 1.2.
func tlsVersionFindings(t *TLSInfo, chainEv []string, f mk) []report.Finding {
	if t.VersionID == 0 || t.VersionID >= 0x0303 {
		return nil
	}
	x := f("smtp.tls-old-version", report.Warning, "TLS version "+t.Version+" negotiated; TLS 1.2 is the minimum today")
	x.Evidence = chainEv[:1]
	x.Cause = "TLS 1.0 and 1.1 are deprecated (RFC 8996); modern senders refuse them and fall back to clear text or fail"
	x.Fix = "enable TLS 1.2 and 1.3 on the server (Postfix: smtpd_tls_protocols = >=TLSv1.2)"
	x.References = []string{"RFC 8996", "RFC 8314 §4.1"}
	return []report.Finding{x}
}

// certificateFinding judges the certificate: it verifies, or what is
// wrong with it. Submission clients refuse a bad one; most port-25
// senders do not.
func certificateFinding(t *TLSInfo, sub bool, chainEv []string, f mk) report.Finding {
	// Port 25: senders use TLS opportunistically and deliver over a
	// certificate they cannot verify (RFC 7435 §1.3, RFC 3207 §4.1: a local
	// matter); only MTA-STS and DANE senders refuse. The check raises these
	// findings when the domain publishes an MTA-STS policy; DANE has its own.
	certSev := report.Info
	certCause := "senders on port 25 deliver over a certificate they cannot verify (opportunistic TLS, RFC 7435), but senders applying an MTA-STS policy in enforce mode (RFC 8461 §5.1) or DANE refuse"
	if sub {
		certSev, certCause = report.Failure, "mail clients verify the certificate of their submission server and refuse to connect"
	}
	var x report.Finding
	switch t.Problem {
	case "":
		x = f("smtp.certificate-ok", report.OK, fmt.Sprintf("the certificate is valid for %s and verifies (%s)", t.ServerName, t.Version))
		x.Evidence = chainEv
	case "expired", "not-yet-valid":
		x = f("smtp.certificate-expired", certSev, "the certificate is "+strings.ReplaceAll(t.Problem, "-", " ")+": "+t.VerifyError)
		x.Evidence, x.Cause = chainEv, certCause
		x.Fix = "renew the certificate and reload the mail server (certbot renew --deploy-hook 'systemctl reload postfix')"
		x.References = []string{"RFC 5280 §4.1.2.5", "RFC 8461 §4.2"}
	case "wrong-name":
		x = f("smtp.certificate-wrong-name", certSev, "the certificate does not cover "+t.ServerName+" (it names "+certNames(t.Chain[0])+")")
		x.Evidence, x.Cause = chainEv, certCause
		x.Fix = "get a certificate whose subjectAltName includes " + t.ServerName + " (the MX host name)"
		x.References = []string{"RFC 6125", "RFC 8461 §4.2"}
	case "self-signed":
		x = f("smtp.certificate-self-signed", certSev, "the certificate is self-signed")
		x.Evidence, x.Cause = chainEv, certCause
		x.Fix = "use a certificate from a public CA (e.g. Let's Encrypt), or publish a DANE TLSA record for it"
		x.References = []string{"RFC 8461 §4.2", "RFC 7672"}
	case "chain-incomplete":
		x = f("smtp.certificate-chain-incomplete", certSev, "the server does not send the intermediate certificate(s): the chain cannot be verified")
		x.Evidence, x.Cause = chainEv, certCause
		x.Fix = "configure the full chain file (leaf + intermediates), e.g. Let's Encrypt fullchain.pem, not cert.pem"
		x.References = []string{"RFC 8446 §4.4.2", "RFC 5246 §7.4.2"}
	default:
		x = f("smtp.certificate-untrusted", certSev, "the certificate does not verify: "+t.VerifyError)
		x.Evidence, x.Cause = chainEv, certCause
		x.Fix = "use a certificate from a public CA with the full chain"
		x.References = []string{"RFC 8461 §4.2"}
	}
	return x
}

// expiryFindings: a certificate that expires within o.ExpiryWarning.
// On port 25 it is info, like the other certificate findings (see
// certificateFinding); submission clients refuse an expired certificate.
func expiryFindings(t *TLSInfo, o FindingOptions, sub bool, chainEv []string, f mk) []report.Finding {
	if len(t.Chain) == 0 || t.Problem == "expired" {
		return nil
	}
	left := t.Chain[0].NotAfter.Sub(o.Now)
	if left <= 0 || left >= o.ExpiryWarning {
		return nil
	}
	sev := report.Info
	if sub {
		sev = report.Warning
	}
	x := f("smtp.certificate-expiring", sev, fmt.Sprintf("the certificate expires in %d day(s), on %s", int(left.Hours()/24), t.Chain[0].NotAfter.Format(time.RFC3339)))
	x.Evidence = chainEv
	x.Cause = "automatic renewal seems not to be working (Let's Encrypt renews 30 days before expiry)"
	x.Fix = "renew now and check the renewal job and the reload hook"
	return []report.Finding{x}
}

// extensionFindings judges what the EHLO replies offer: AUTH (before and
// after TLS), SIZE, the common extensions, and VRFY.
func (s *Session) extensionFindings(o FindingOptions, f mk) []report.Finding {
	var out []report.Finding
	out = append(out, s.authBeforeTLSFindings(o, f)...)
	ext := s.FinalExtensions()
	out = append(out, s.submissionAuthFindings(o, ext, f)...)
	out = append(out, sizeFindings(ext, f)...)
	out = append(out, extensionListFinding(ext, f))
	out = append(out, s.vrfyFindings(ext, f)...)
	return out
}

// authBeforeTLSFindings: AUTH offered in the EHLO reply before TLS.
func (s *Session) authBeforeTLSFindings(o FindingOptions, f mk) []report.Finding {
	mechs := s.Extensions.AuthMechanisms()
	if len(mechs) == 0 || s.Mode == ModeImplicitTLS {
		return nil
	}
	sev := report.Warning
	if s.Submission(o) {
		sev = report.Failure
	}
	x := f("smtp.auth-before-tls", sev, "AUTH ("+strings.Join(mechs, " ")+") is offered before TLS")
	x.Evidence = s.ehloEvidence()
	x.Cause = "clients may send their password in clear text before TLS is started"
	x.Fix = "offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes)"
	x.References = []string{"RFC 4954 §4", "RFC 8314 §3.3"}
	return []report.Finding{x}
}

// submissionAuthFindings: whether a submission service offers AUTH over TLS.
func (s *Session) submissionAuthFindings(o FindingOptions, ext Extensions, f mk) []report.Finding {
	if !s.Submission(o) || s.TLS == nil || s.TLS.Handshake != "ok" {
		return nil
	}
	// RFC 4954 §4 / RFC 8314 §3: submission authenticates over TLS.
	// mxray only reads the offer; it never tries credentials.
	if mechs := ext.AuthMechanisms(); len(mechs) > 0 {
		x := f("smtp.auth-offered", report.OK, "AUTH is offered over TLS: "+strings.Join(mechs, " "))
		x.References = []string{"RFC 4954", "RFC 8314 §3"}
		return []report.Finding{x}
	}
	x := f("smtp.auth-missing", report.Warning, "the submission service offers no AUTH after TLS")
	x.Evidence = []string{"EHLO reply after TLS: " + s.EHLO.String()}
	x.Cause = "mail clients cannot authenticate, so they cannot submit mail here (unless the server relies on client certificates or IP addresses)"
	x.Fix = "enable SASL authentication on the submission service (Postfix master.cf: -o smtpd_sasl_auth_enable=yes)"
	x.References = []string{"RFC 4954", "RFC 6409 §4.1"}
	return []report.Finding{x}
}

// minMessageSize is the smallest message size limit RFC 5321 §4.5.3.1.7 allows.
const minMessageSize = 64 << 10

// sizeFindings: the SIZE limit (RFC 1870), when one is announced.
func sizeFindings(ext Extensions, f mk) []report.Finding {
	n, ok := ext.Size()
	if !ok {
		return nil
	}
	// How large a message to take is the operator's choice (Postfix's
	// default is 10240000 octets); only a limit below the 64K octets every
	// server MUST accept (RFC 5321 §4.5.3.1.7) asks for a change.
	x := f("smtp.size", report.Info, "SIZE limit: "+sizeText(n))
	x.References = []string{"RFC 1870"}
	if n > 0 && n < minMessageSize {
		x.Severity = report.Warning
		x.Cause = "RFC 5321 §4.5.3.1.7: a server MUST accept messages of at least 64K octets; ordinary mail with an attachment is refused"
		x.Fix = "raise the limit (Postfix: message_size_limit)"
		x.References = append(x.References, "RFC 5321 §4.5.3.1.7")
	}
	return []report.Finding{x}
}

// extensionListFinding lists the extensions, and which common ones are
// offered or not.
func extensionListFinding(ext Extensions, f mk) report.Finding {
	var have, missing []string
	for _, k := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN", "REQUIRETLS"} {
		if ext.Has(k) {
			have = append(have, k)
		} else {
			missing = append(missing, k)
		}
	}
	x := f("smtp.extensions", report.Info, "extensions: "+strings.Join(ext.Keywords(), " "))
	x.Evidence = []string{"offered: " + strings.Join(have, " "), "not offered: " + strings.Join(missing, " ")}
	return x
}

// vrfyFindings judges the answer to VRFY postmaster or, when it was not
// asked, the VRFY the server advertises.
func (s *Session) vrfyFindings(ext Extensions, f mk) []report.Finding {
	v := s.VRFY
	if v == nil {
		if !ext.Has("VRFY") {
			return nil
		}
		x := f("smtp.vrfy", report.Info, "the server advertises VRFY")
		x.Cause = "VRFY lets anyone test whether an address exists (address harvesting)"
		x.Fix = "disable it unless needed (Postfix: disable_vrfy_command = yes)"
		x.References = []string{"RFC 5321 §3.5", "RFC 5321 §7.3"}
		return []report.Finding{x}
	}
	ev := []string{"VRFY postmaster → " + v.String()}
	refs := []string{"RFC 5321 §3.5", "RFC 5321 §7.3"}
	var x report.Finding
	switch {
	case v.Code == 250 || v.Code == 251:
		x = f("smtp.vrfy-enabled", report.Info, "VRFY confirms addresses: "+v.String())
		x.Cause = "anyone can ask which addresses exist (address harvesting); RFC 5321 §7.3 lets sites turn it off"
		x.Fix = "answer VRFY with 252 or disable it unless needed (Postfix: disable_vrfy_command = yes)"
	case v.Code == 252:
		x = f("smtp.vrfy-noncommittal", report.OK, "VRFY does not confirm addresses (252: cannot verify, will accept and attempt delivery)")
	case v.Permanent():
		x = f("smtp.vrfy-disabled", report.OK, "VRFY is disabled or refused ("+strconv.Itoa(v.Code)+")")
	default:
		return nil
	}
	x.Evidence = ev
	x.References = refs
	return []report.Finding{x}
}

func (s *Session) ehloEvidence() []string {
	for _, st := range s.Steps {
		if st.Stage == catalog.StageEHLO && st.Reply != nil {
			return st.Reply.Lines
		}
	}
	return nil
}

func sizeText(n int64) string {
	if n == 0 {
		return "no fixed limit"
	}
	return fmt.Sprintf("%d octets (%.1f MB)", n, float64(n)/1e6)
}

// transactionFindings judges the mail transaction: MAIL FROM, then the
// recipients. Greylisting at postmaster leaves the postmaster and
// catch-all tests unjudged; a refused random or foreign recipient proves
// something only when postmaster was accepted or the refusal names the
// recipient.
func (s *Session) transactionFindings(f mk) []report.Finding {
	var out []report.Finding
	out = append(out, s.mailRejectedFindings(f)...)
	pm, havePM := s.Rcpt(RcptPostmaster)
	greylisted := havePM && Greylisting(pm.Reply)
	pmAccepted := havePM && pm.Accepted()
	if greylisted {
		out = append(out, greylistingFinding(pm, f))
	}
	if havePM && pm.Reply != nil && !greylisted {
		out = append(out, postmasterFinding(pm, f))
	}
	out = append(out, s.userRcptFindings(f)...)
	if rnd, ok := s.Rcpt(RcptRandom); ok && rnd.Reply != nil && !greylisted {
		out = append(out, catchAllFindings(rnd, pmAccepted, f)...)
	}
	if rel, ok := s.Rcpt(RcptRelay); ok && rel.Reply != nil {
		out = append(out, relayFindings(rel, pmAccepted, f)...)
	}
	return out
}

// mailRejectedFindings: every MAIL FROM was refused.
func (s *Session) mailRejectedFindings(f mk) []report.Finding {
	if len(s.MailFrom) == 0 || s.MailAccepted() || s.MailFrom[len(s.MailFrom)-1].Reply == nil {
		return nil
	}
	last := s.MailFrom[len(s.MailFrom)-1]
	x := f("smtp.mail-rejected", report.Warning, "the server refused MAIL FROM: "+last.Reply.String())
	if last.Reply.Transient() {
		x.Severity = report.Unknown
	}
	for _, m := range s.MailFrom {
		x.Evidence = append(x.Evidence, fmt.Sprintf("MAIL FROM:<%s> → %s", m.From, m.Reply.String()))
	}
	x.Cause = "a refusal at MAIL FROM is about the sender address or the client: " + last.Reply.Explain.Summary + "; recipients could not be tested"
	x.Fix = "retry with --from set to an address of yours; a server must accept the null sender <> for bounces (RFC 5321 §4.5.5)"
	x.References = []string{"RFC 5321 §4.5.5"}
	return []report.Finding{x}
}

// greylistingFinding: RCPT TO postmaster was deferred by greylisting.
func greylistingFinding(pm RcptResult, f mk) report.Finding {
	x := f("smtp.greylisting", report.Info, "the server greylists: RCPT TO was deferred with "+pm.Reply.String())
	x.Evidence = []string{rcptLine(pm)}
	x.Cause = "greylisting defers first-time senders; legitimate senders retry and get through after a delay, so the recipient tests below could not be judged"
	x.Fix = "nothing, if the delay is acceptable; whitelist important senders"
	x.References = []string{"RFC 6647"}
	return x
}

// postmasterFinding: RCPT TO postmaster@domain, which every mail domain
// must accept (RFC 5321 §4.5.1).
func postmasterFinding(pm RcptResult, f mk) report.Finding {
	switch {
	case pm.Accepted():
		x := f("smtp.postmaster-accepted", report.OK, pm.Address+" is accepted")
		x.Evidence = []string{rcptLine(pm)}
		return x
	case pm.Reply.Permanent():
		x := f("smtp.postmaster-rejected", report.Failure, pm.Address+" is refused: "+pm.Reply.String())
		x.Evidence = []string{rcptLine(pm)}
		x.Cause = "RFC 5321 §4.5.1 requires every domain that accepts mail to accept mail for postmaster; problem reports go there. " + pm.Reply.Explain.Summary
		x.Fix = "create the postmaster alias (Postfix: postmaster: root in /etc/aliases, or a virtual alias postmaster@domain)"
		x.References = []string{refPM}
		return x
	default:
		x := f("smtp.postmaster-deferred", report.Unknown, pm.Address+" was deferred: "+pm.Reply.String())
		x.Evidence = []string{rcptLine(pm)}
		x.Cause = pm.Reply.Explain.Summary
		return x
	}
}

// userRcptFindings: one finding per --rcpt address.
func (s *Session) userRcptFindings(f mk) []report.Finding {
	var out []report.Finding
	for _, r := range s.Rcpts {
		if r.Kind != RcptUser || r.Reply == nil {
			continue
		}
		sev := report.OK
		switch {
		case r.Reply.Permanent():
			sev = report.Failure
		case r.Reply.Transient():
			sev = report.Unknown
		}
		x := f("smtp.rcpt", sev, fmt.Sprintf("RCPT TO:<%s> → %d %s", r.Address, r.Reply.Code, r.Reply.Explain.Summary))
		x.Evidence = []string{rcptLine(r)}
		x.Fix = r.Reply.Explain.Fix
		x.References = r.Reply.Explain.References
		out = append(out, x)
	}
	return out
}

// catchAllFindings judges the random recipient: accepted (catch-all), or
// refused as unknown.
func catchAllFindings(rnd RcptResult, pmAccepted bool, f mk) []report.Finding {
	if rnd.Accepted() {
		x := f("smtp.catch-all", report.Info, "the server accepts any recipient (a random address was accepted)")
		x.Evidence = []string{rcptLine(rnd)}
		x.Cause = "a catch-all domain, or a server that accepts at RCPT and bounces later (accept-then-bounce looks the same from outside); it attracts dictionary spam and, with accept-then-bounce, backscatter"
		x.Fix = "reject unknown recipients at RCPT TO (Postfix: smtpd_reject_unlisted_recipient = yes, with the recipient maps or a relay_recipient_maps on gateways)"
		x.References = []string{"RFC 5321 §3.3", "RFC 3834 §2"}
		return []report.Finding{x}
	}
	if !rnd.Reply.Permanent() {
		return nil
	}
	// Conclusive only when the refusal is about the recipient: the
	// catalog says "userunknown", or the same client was accepted for
	// postmaster. A client refused for itself (blocklisted, no PTR)
	// gets the same 5xx for every RCPT, which proves nothing.
	if rnd.Reply.Explain.Reason == "userunknown" || pmAccepted {
		x := f("smtp.unknown-recipient-rejected", report.OK, "unknown recipients are rejected at RCPT TO")
		x.Evidence = []string{rcptLine(rnd)}
		return []report.Finding{x}
	}
	x := f("smtp.unknown-recipient-untested", report.Unknown, "whether unknown recipients are rejected could not be observed: the random recipient was refused for another reason ("+rnd.Reply.Explain.Reason+")")
	x.Evidence = []string{rcptLine(rnd)}
	x.Cause = rnd.Reply.Explain.Summary
	x.Fix = rnd.Reply.Explain.Fix
	return []report.Finding{x}
}

// relayFindings judges the recipient in a foreign domain: accepted (maybe
// an open relay) or refused.
func relayFindings(rel RcptResult, pmAccepted bool, f mk) []report.Finding {
	switch {
	case rel.Accepted():
		x := f("smtp.open-relay", report.Failure, "the server may be an open relay: it accepted a recipient in a domain it is not responsible for")
		x.Evidence = []string{rcptLine(rel)}
		x.Cause = "a server that accepts mail for any domain from anyone is abused to send spam within hours and then blocklisted. Caveat: some servers accept at RCPT and refuse later (or only queue for a smarthost); no message was sent to find out"
		x.Fix = "relay only for your own domains and authenticated users (Postfix: smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination)"
		x.References = []string{"RFC 5321 §3.6.1", "RFC 5321 §7.1", "RFC 2505"}
		return []report.Finding{x}
	case rel.Reply.Permanent() && (rel.Reply.Explain.Reason == "norelaying" || pmAccepted):
		// As with the random recipient: the refusal must be about the
		// foreign recipient, not about this client.
		x := f("smtp.relay-denied", report.OK, "relaying to other domains is refused")
		x.Evidence = []string{rcptLine(rel)}
		return []report.Finding{x}
	case rel.Reply.Permanent():
		x := f("smtp.relay-untested", report.Unknown, "whether the server relays could not be observed: the foreign recipient was refused for another reason ("+rel.Reply.Explain.Reason+")")
		x.Evidence = []string{rcptLine(rel)}
		x.Cause = rel.Reply.Explain.Summary
		x.Fix = rel.Reply.Explain.Fix
		return []report.Finding{x}
	}
	return nil
}

func rcptLine(r RcptResult) string {
	return fmt.Sprintf("RCPT TO:<%s> → %s", r.Address, r.Reply.String())
}

func looksLikeHost(h string) bool {
	if h == "" || !strings.Contains(h, ".") || strings.HasPrefix(h, "[") {
		return false
	}
	for _, r := range h {
		if !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSuffix(x, "."), s) {
			return true
		}
	}
	return false
}
