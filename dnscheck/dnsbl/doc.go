// Package dnsbl queries DNS blocklists (DNSBLs, RFC 5782) and reads their
// answers correctly.
//
// A DNSBL publishes its entries as DNS names under its zone:
//
//   - IPv4: the address's octets reversed, then the zone (RFC 5782 §2.1):
//     192.0.2.99 on zen.spamhaus.org is 99.2.0.192.zen.spamhaus.org.
//   - IPv6: the 32 nibbles of the address reversed, dot-separated, as in
//     ip6.arpa (RFC 5782 §2.4).
//   - Domains (RHSBL/URIBL): the name itself, then the zone (RFC 5782 §2.3);
//     SURBL and URIBL list registered domains only, so host parts are cut to
//     the public-suffix-plus-one name first.
//
// An A record means "listed"; its value (in 127.0.0.0/8) says why, and the
// TXT record at the same name carries a human reason and URL (RFC 5782 §2.1).
// NXDOMAIN means "not listed". That is the whole protocol, and it is why
// blocklist checkers are notorious for false alarms: every A record looks
// like a listing. mxray says "listed" only when the answer is a listing:
//
//   - Error codes are not listings: Spamhaus answers 127.255.255.252/254/255
//     (typo in the zone, public resolver, too many queries) and 127.0.1.255
//     on the DBL for an IP query; URIBL and SURBL answer 127.0.0.1 when they
//     refuse a resolver. These make the result "unknown", with the reason.
//   - An answer outside 127.0.0.0/8 is not a DNSBL answer at all (NXDOMAIN
//     rewriting by a resolver, a lapsed zone parked on a web server): unknown.
//   - Health (RFC 5782 §5): the test point 127.0.0.2 (::ffff:7f00:2; "test"
//     for domain lists, or the list's documented test name) MUST be listed,
//     and 127.0.0.1 (::ffff:7f00:1; "invalid") MUST NOT be. A list that lists
//     the negative point is wildcarded (dead lists such as AHBL list
//     everything), and one that does not list the positive point is not
//     answering this resolver; either way its answers are ignored (unknown).
//     Each list's test points are queried once per run, concurrently with the
//     first real query, and cached.
//   - A timeout, SERVFAIL or REFUSED is unknown, never "not listed".
//
// The catalog of lists is data (lists.json, embedded): zone, kind,
// the meaning of each return code, the error codes, query restrictions, test
// points, lookup and delisting pages, status (active, legacy, defunct) and
// the sources of these facts. Defunct lists (SORBS, AHBL, ORDB, DSBL, NJABL,
// ...) are in the catalog so that a bounce naming one can be explained, but
// they are not queried by default.
//
// Files: dnsbl.go (the catalog, targets, queries, classification of answers
// and list health) and findings.go (the report of a check).
package dnsbl
