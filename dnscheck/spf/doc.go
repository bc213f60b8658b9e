// Package spf implements the Sender Policy Framework, RFC 7208.
//
// A domain publishes, in one TXT record starting "v=spf1", the hosts that may
// use it in MAIL FROM (and HELO). A receiver runs check_host(<ip>, <domain>,
// <sender>) (RFC 7208 §4): it fetches the record, evaluates its mechanisms
// left to right against the client address and returns one of none, neutral,
// pass, fail, softfail, temperror or permerror (§2.6).
//
// mxray has its own evaluator (design.md §3) because a health checker needs
// more than the verdict: the whole record tree with every DNS-querying term
// and void lookup counted the way §4.6.4 counts them, lookups that failed told
// apart from records that are missing, and the tree shown even when the
// limit is exceeded. The code is split by concern:
//
//   - record.go the record grammar (§4.5, §4.6, §5, §6, §12 ABNF) and the public types
//   - macro.go  macro expansion (§7)
//   - eval.go   check_host() (§4, §5) with the processing limits (§4.6.4)
//   - tree.go   concurrent resolution of the whole include/redirect tree
//   - lint.go   findings about the tree
//
// The parser keeps the raw text of the record and of every term, and the
// byte position of every term, so errors and findings point at the text the
// user published.
package spf
