// Package tlsrpt checks SMTP TLS Reporting records (TLS-RPT, RFC 8460).
//
// A domain asks senders for daily reports of their TLS connection attempts
// — successes and failures, with MTA-STS and DANE policy results — with a
// TXT record at "_smtp._tls.DOMAIN" (§3):
//
//	v=TLSRPTv1; rua=mailto:tls-reports@example.com,https://reports.example.com/tlsrpt
//
// The version must come first; "rua" is required and holds one or more
// mailto: or https: URIs, comma-separated (§3). As with MTA-STS, records not
// beginning with "v=TLSRPTv1" are ignored and more than one valid record
// means none (§3). Without TLS-RPT an operator of MTA-STS or DANE learns of
// a broken certificate only from the mail that stops arriving.
package tlsrpt
