// Package dkim checks DKIM public key records (RFC 6376 §3.6): a TXT record at
// <selector>._domainkey.<domain> in the tag=value syntax of RFC 6376 §3.2.
//
//   - v=DKIM1, if present, must be the first tag; a record starting with
//     another v= is discarded (§3.6.1),
//   - k is the key type: rsa (default) or ed25519 (RFC 8463),
//   - p is the base64 public key; an empty p= means the key was revoked,
//     for RSA a DER SubjectPublicKeyInfo (in practice some publishers put a
//     bare PKCS#1 RSAPublicKey, which most verifiers accept), for ed25519 the
//     raw 32-octet key (RFC 8463 §4.2),
//   - h lists acceptable hash algorithms (sha1 is forbidden by RFC 8301 §3.1),
//   - s lists service types (* or email), t flags: y (testing: verifiers
//     must not treat a failure differently from no signature) and s (the i=
//     domain must equal d=, no subdomains),
//   - RSA keys under 1024 bits must not be used (RFC 8301 §3.2); 1024 is
//     the floor, 2048 the current recommendation.
//
// A TXT record longer than 255 octets is split into several strings, which
// are joined without separator (RFC 6376 §3.6.2.2). Keys are often
// delegated to an email provider with a CNAME; the resolver follows it and
// the chain is kept as evidence.
//
// Selectors are arbitrary names. Without --selector, mxray tries a list of
// common ones concurrently; finding none proves nothing.
//
// A message's signatures are verified as a receiver verifies them (RFC 6376
// §6, results named as in RFC 8601 §2.7.1): go-msgauth does the
// canonicalization and the cryptography, mxray's resolver fetches the keys,
// and a key lookup that failed is temperror, never fail.
//
// Files: dkim.go parses a key record and looks selectors up; findings.go
// judges them; verify.go verifies the DKIM-Signature fields of a message.
// The tag=value grammar (RFC 6376 §3.2) is shared with DMARC and lives in
// dnscheck (taglist.go).
package dkim
