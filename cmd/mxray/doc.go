// Command mxray checks the health of a mail domain the way the rest of the
// internet sees it: DNS (MX, reverse DNS, SPF, DKIM, DMARC, MTA-STS, TLS-RPT,
// BIMI, DANE), a dry-run SMTP session that never sends DATA, DNS blocklists,
// and the explanation of SMTP replies and bounces.
//
// This package is wiring only: flags (pflag), subcommands, the calls into
// the check packages and the report renderers. One file per subcommand.
package main
