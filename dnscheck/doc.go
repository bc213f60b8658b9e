// Package dnscheck holds mxray's DNS resolver and what every DNS standard
// package needs from it: names and addresses, and the mail host records of
// RFC 5321 §5 — MX and its hosts (with null MX, RFC 7505) and reverse DNS with
// forward confirmation.
//
// Each DNS-published mail standard has a package of its own below this one:
// spf (RFC 7208), dkim (RFC 6376 key records), dmarc (RFC 9989, RFC 7489),
// mtasts (RFC 8461), tlsrpt (RFC 8460), bimi, dane (RFC 7672, with the DNSSEC
// status it depends on) and dnsbl (RFC 5782). Each imports dnscheck for the
// resolver; none imports check, probe or cmd. httpsfetch fetches what the
// standards publish over HTTPS, and dnstest is the DNS server of the tests.
//
// Files: resolver.go (the miekg/dns client: EDNS0, TCP on truncation, a
// deadline per query, failover, in-flight deduplication, a bound on
// queries in flight, the trace), cache.go (the bounded answer cache that
// honours TTLs, RFC 1035 §3.2.1 and RFC 2308 §5), udppool.go (UDP sockets
// reused for a few queries each, RFC 5452 §9.2), tracelog.go (the queries
// of one check among many sharing a Client), vet.go (vetting the resolver
// against names that must exist — the root's NS, RFC 1034 §5.3.1, and the
// TLD's SOA, RFC 1035 §5.2 — before its negative answers are believed),
// memo.go (a per-evaluation memo), static.go (a map-backed Resolver for unit tests),
// name.go (domain normalisation, RFC 1035/5890), addr.go (host addresses and
// special-use ranges, RFC 6890), record.go and taglist.go (the text of
// field-list records shared by several standards), mx.go and ptr.go.
//
// Every check takes a Resolver, so tests pass either a dnstest server's
// address or a StaticResolver, and the product passes the system's
// nameservers: the code path is the same. A lookup that could not be
// completed (SERVFAIL, REFUSED, timeout) is reported as unknown, never as a
// missing record.
package dnscheck
