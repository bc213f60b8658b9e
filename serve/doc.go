// Package serve is mxray's web front end (`mxray serve`): the reports of
// the command line as server-rendered pages, the same JSON documents for
// programs, and a Prometheus probe endpoint in the blackbox_exporter
// convention.
//
//   - Pages are rendered with html/template, which escapes every byte that
//     came from a remote server (banners, replies, TXT records, bounces);
//     CSS and JavaScript are embedded and served by the binary, and nothing
//     is loaded from elsewhere. A domain check streams its parts as they
//     finish (check.Config.OnPartDone), in one chunked response (RFC 9112
//     §7.1), so a slow SMTP session never leaves the page blank.
//   - The JSON API answers with report.WriteJSON, the document of
//     `--format json`, schema version and all.
//   - /probe answers in the Prometheus text exposition format with
//     probe_success and probe_duration_seconds, as blackbox_exporter does;
//     its timeout comes from X-Prometheus-Scrape-Timeout-Seconds. /metrics
//     holds the server's own counters.
//   - The server must not become a way into the network it runs in:
//     targets in special-use address ranges (RFC 6890) and special-use
//     domain names (RFC 6761, RFC 6762, RFC 8375, RFC 9476) are refused
//     unless allowed, after resolution too; every dial is checked again,
//     and one SMTP connection per IP address is open at a time across all
//     requests. Rate limits answer 429 with Retry-After (RFC 6585 §4, RFC
//     9110 §10.2.3), oversized uploads 413 (RFC 9110 §15.5.14). POST forms
//     are protected against cross-site request forgery by
//     http.CrossOriginProtection (Sec-Fetch-Site and Origin, Fetch Metadata).
//     Responses carry a Content-Security-Policy without inline script (CSP
//     Level 3), X-Content-Type-Options: nosniff and Referrer-Policy.
//
// Pages aim at WCAG 2.1 AA: headings and labels, colour never the only
// signal (each severity is also a word), contrast of at least 4.5:1 in the
// light and the dark scheme (prefers-color-scheme), and a layout that
// reads on a phone.
package serve
