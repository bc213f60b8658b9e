// Package dmarc checks DMARC policy records: RFC 9989 (DMARCbis, which obsoletes RFC 7489 and
// RFC 9091) and, where receivers still differ, RFC 7489.
//
// A DMARC record is a TXT record at _dmarc.<domain> in the DKIM tag=value
// syntax (RFC 9989 "General Record Format", "Formal Definition"):
//
//   - it must start with v=DMARC1 (exactly, case-sensitive); a record that
//     does not is not a DMARC record and is discarded,
//   - p (none, quarantine, reject) is the Domain Owner Assessment Policy; sp
//     applies to existing subdomains, np (new in RFC 9989, from RFC 9091) to
//     non-existent ones,
//   - adkim/aspf choose relaxed (r) or strict (s) identifier alignment,
//   - rua/ruf are comma-separated report URIs, fo the failure report options,
//   - psd (y, n, u) marks a Public Suffix Domain's record, t=y asks receivers
//     not to apply the policy yet (test mode) — both new in RFC 9989,
//   - pct, rf and ri of RFC 7489 are removed in RFC 9989; receivers on the
//     new standard ignore them, older ones still honour them,
//   - unknown tags must be ignored; syntax errors in the rest of the record
//     are discarded in favour of defaults.
//
// Files: dmarc.go parses one record; discover.go finds the record that
// applies to a domain (the RFC 9989 DNS tree walk and the RFC 7489 public
// suffix list method) and judges SPF alignment (RFC 9989 "Identifier
// Alignment Explained", RFC 7489 §3.1); findings.go turns the result into
// findings and the records to publish.
package dmarc
