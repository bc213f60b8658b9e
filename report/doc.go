// Package report is the vocabulary every check in mxray speaks: findings with
// stable ids and severities, sections that group them, the report that carries
// them, the renderers (text, JSON) and the exit code derived from them.
//
// report is a leaf package: it imports nothing else from mxray, so that
// dnscheck and probe can return findings and the check package can assemble
// them without import cycles. Packages never print; report renders.
//
// Two packages below it read what other mail systems report: catalog maps an
// SMTP reply to its documented cause (Explain), and message finds the replies
// in pasted text, logs and bounces (RFC 3464 delivery status reports).
package report
