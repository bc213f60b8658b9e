// Package catalog maps every SMTP reply to its documented cause: the reply
// catalog and Explain.
//
// A reply is three things (RFC 5321 §4.2): a three-digit basic code whose
// first digit says success (2), intermediate (3), transient failure (4) or
// permanent failure (5); an optional enhanced status code class.subject.detail
// (RFC 3463, advertised with ENHANCEDSTATUSCODES, RFC 2034); and free text.
// The code alone rarely says why: "550" is used for an unknown user, a
// blocklisted IP, a DMARC failure and a relay refusal alike. Receivers put
// the real cause in the text, and the stage at which the reply came (connect,
// EHLO, MAIL, RCPT, end of data) says whose fault it is.
//
// So the catalog is data (the *.json files beside this one, schema in
// README.md): ordered entries that match on stage, basic code,
// enhanced code and text patterns, most specific first — providers' documented
// replies, named blocklists, MTA texts, the seed documents' replies, generic
// keywords, then one fallback per enhanced code of the registry, per basic
// code of RFC 5321 and per reply class. The first matching entry explains the
// reply.
//
// The catalog is compiled on first use, not at program start, so commands
// that never explain a reply pay nothing for it. Files: reply.go (stages and
// the Explanation), catalog.go (loading and matching), enhanced.go (the
// RFC 3463 enhanced status code registry, embedded as CSV).
package catalog
