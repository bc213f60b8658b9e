// Package maillog reads mail server logs as a stream and turns every
// refused, deferred or bounced recipient into one explained event, grouped
// by cause.
//
// A mail log is two conversations in one file: this server refusing
// clients (inbound: Postfix smtpd "reject: RCPT from …", Exim "rejected
// RCPT", Sendmail "ruleset=check_rcpt … reject=") and remote servers
// refusing this server (outbound: Postfix smtp "status=bounced (host X
// said: …)", Exim "**" and "==" lines, Sendmail "stat="), plus local
// deliveries that failed. Each event says which, with the time, MTA and
// program, queue id, recipient, sender, remote host and address, the SMTP
// stage, the reply codes and the explanation (report/message, which uses
// the reply catalog of report/catalog).
//
// Line shapes, by source (line.go reads the prefixes, one file per MTA):
//
//   - syslog: RFC 3164 §4.1 ("Mmm dd hh:mm:ss host tag[pid]: msg"), RFC 5424
//     §6 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"), the RFC 3339
//     timestamps of rsyslog's file format, and the output formats of
//     journalctl(1) (short, short-precise, short-iso, short-iso-precise,
//     short-full, short-unix; its "-- … --" marker lines are skipped);
//   - Postfix (postfix.go): smtpd(8)/postscreen(8) rejects, the delivery
//     agents' "to=<…>, relay=…, dsn=…, status=…" lines (smtp(8), lmtp,
//     local(8), virtual(8), pipe(8), error(8)), qmgr(8) "from=<…>" and
//     "status=expired" lines; Postfix's own maillog_file has the syslog shape;
//   - Exim (exim.go): the main log ("YYYY-MM-DD hh:mm:ss" lines, Exim
//     specification chapter "Log files": "<=" arrivals, "**" failures, "=="
//     deferrals, and the "rejected" lines of its ACLs), also through syslog;
//   - Sendmail (sendmail.go): "to=…, dsn=…, stat=…" delivery lines,
//     "from=<…>" lines and the "ruleset=… reject=…" lines of its checks.
//
// A line that is none of these is skipped, never joined to another line's
// reply. The reader is a stream: a line is read, parsed and forgotten; the
// state kept between lines (a queue id's sender, its deferred recipients
// until the message expires) and the groups are bounded, so memory does not
// grow with the size of the log. The same reply text with other addresses
// in it is explained once (catalog.Cache).
package maillog
