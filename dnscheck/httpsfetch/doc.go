// Package httpsfetch fetches the documents a mail domain publishes over HTTPS:
// MTA-STS policies (RFC 8461 §3.3) and BIMI logos and evidence documents.
//
// RFC 8461 §3.3 is strict about how a policy is fetched, and mxray fetches
// the way a conforming sender does, so that what it reports is what senders
// see: HTTPS only, the server certificate valid for the host name
// (mta-sts.DOMAIN) under the system's roots, no redirects ("senders MUST NOT
// follow redirects"), only a 200 answer counts, a size limit (64 KiB
// suggested) and a deadline.
//
// The production client resolves host names through mxray's own Resolver
// (so --resolver applies and a SERVFAIL for mta-sts.DOMAIN is reported as
// unknown, not as "host not found"), then dials. Tests use the same client
// with a Dial that routes to an httptest server and a test root CA.
//
// Host names that resolve only to special-use addresses (loopback, RFC 1918,
// ...) are not dialed unless Options.AllowSpecialUse says so: a published URL
// must not make mxray probe the network it runs in.
package httpsfetch
