// Package dane checks DANE for SMTP (RFC 7672) with TLSA records (RFC 6698,
// RFC 7671), and the DNSSEC status that DANE depends on.
//
// An MX host publishes the certificate or public key its SMTP server
// presents as TLSA records at "_25._tcp.MXHOST" (RFC 7672 §2.2.3, RFC 6698
// §3). A record is three numbers and the association data:
//
//	usage     0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE   (RFC 7218 names)
//	selector  0 the full certificate, 1 its SubjectPublicKeyInfo
//	matching  0 exact DER, 1 SHA-256, 2 SHA-512
//
// For SMTP only DANE-TA(2) and DANE-EE(3) are usable; PKIX-TA(0) and
// PKIX-EE(1) are "unusable" because MTAs have no common set of trusted CAs
// (RFC 7672 §3.1.3). Senders use TLSA records only when the answer is
// DNSSEC-validated ("secure", RFC 7672 §2.2); an insecure TLSA answer is
// ignored. mxray does not validate DNSSEC itself: "authenticated" below is
// the resolver's AD bit, an assertion of the resolver that is only as
// trustworthy as the path to it.
//
// Whether the server's certificate matches the records is checked by the
// SMTP probe with MatchTLSA, against the chain it saw in the handshake.
//
// When an MX host name is a CNAME and the expansion is DNSSEC-secure, TLSA
// records are looked up at the expanded name first and at the original name
// only if the expanded one has none (RFC 7672 §2.2.3).
//
// Files: dane.go (TLSA records, lookup, matching, findings) and dnssec.go
// (the AD bit and the DS probe that tells "unsigned" from "resolver does
// not validate", RFC 4033-4035).
package dane
