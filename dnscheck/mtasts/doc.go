// Package mtasts checks SMTP MTA Strict Transport Security (MTA-STS, RFC 8461).
//
// A domain announces an MTA-STS policy with a TXT record at
// "_mta-sts.DOMAIN" ("v=STSv1; id=20260101T000000", §3.1) and serves the
// policy itself over HTTPS at "https://mta-sts.DOMAIN/.well-known/mta-sts.txt"
// (§3.2, §3.3): the MX host patterns senders may deliver to, the mode
// (enforce, testing, none) and how long to cache it (max_age). Senders fetch
// the policy with a certificate valid for mta-sts.DOMAIN, follow no redirect,
// and — in enforce mode — refuse to deliver to an MX host that matches no
// "mx:" pattern (§4.1) or does not present a trusted certificate (§4.2, the
// SMTP probe's job).
//
// The package holds the TXT record and policy parsers, the MX pattern match,
// and the check that ties them to the domain's actual MX hosts. The policy
// is fetched by dnscheck/httpsfetch, the way §3.3 demands.
package mtasts
