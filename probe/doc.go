// Package probe talks to mail servers the way a sending MTA does, and
// records everything they say. It never sends DATA or BDAT, and never
// delivers a message.
//
// An SMTP dry run (DryRun) connects, reads the whole 220 greeting before
// speaking (RFC 5321 §4.3.1; Postfix postscreen and other pregreet tests
// drop clients that talk first), says EHLO with a real name (HELO when the
// server answers 500/502, RFC 5321 §4.1.4), starts TLS with STARTTLS
// (RFC 3207) or on connect (port 465, RFC 8314 §3.3), says EHLO again, and
// opens a mail transaction: MAIL FROM:<> (the null reverse-path every
// server must accept, RFC 5321 §4.5.5), RCPT TO:<postmaster@domain> (which
// every domain must accept, RFC 5321 §4.5.1), the recipients asked for, a
// random local part (does the server accept any recipient?), and an address
// in a domain the server cannot be responsible for (is it an open relay?).
// It then says QUIT. RCPT TO is where receivers decide (sender and client
// reputation, recipient existence, greylisting), so stopping there observes
// the decision without delivering anything.
//
// Every reply is kept with its stage, code, enhanced code (RFC 3463),
// lines and time, and explained by the reply catalog (catalog.Explain);
// every command with its send time. The session ends with one Status in
// the style of zgrab2 (ok, connection-refused, greeting-timeout,
// rejected-at-greeting, tls-handshake-failed, protocol-error, rate-limited,
// tarpitting, greylisted, ...), so that a 421 or a timeout is never mistaken
// for "no STARTTLS". Hostile input — endless lines, endless continuation
// lines, a drip of one byte per second, garbage — ends the session with a
// clear status within the deadlines (Limits, Config timeouts).
//
// Findings turns a session into report findings; the domain check
// (check/smtp.go) runs a session per MX address and adds DANE and the
// submission ports.
//
// Using it from another package:
//
//	s := probe.DryRun(ctx, probe.Config{
//		Dial:   dialer.DialContext,         // route "MX-IP:25" anywhere
//		HELO:   "client.example.net",
//		Domain: "example.com",              // postmaster@example.com, catch-all
//		Recipients: []string{"alice@example.com"},
//		TLS:    probe.TLSOptions{RootCAs: roots},
//	}, probe.Target{Host: "mx.example.com", Addr: "192.0.2.1:25"})
//	s.Status, s.Rcpts, s.TLS, s.Transcript(), s.Findings(probe.FindingOptions{})
package probe
