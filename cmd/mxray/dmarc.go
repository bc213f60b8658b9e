package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/spf"

	"github.com/mxray/mxray/dnscheck/dmarc"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "dmarc", order: 30, summary: "the DMARC policy record, found and judged under RFC 9989 and RFC 7489",
		usage: "mxray dmarc DOMAIN [--ip IP] [--sender ADDR] [flags]", run: runDMARC})
}

func runDMARC(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("dmarc", stdio, "mxray dmarc DOMAIN [--ip IP] [--sender ADDR] [flags]",
		"Finds the DMARC record that applies to DOMAIN by the RFC 9989 DNS tree walk (at most 8 queries; psd=,\n"+
			"np=, t=) and by the RFC 7489 Public Suffix List method, says where the two disagree, parses and judges\n"+
			"every tag, and checks that external report addresses authorise the domain (_report._dmarc).\n"+
			"With --ip, runs SPF for that address and says whether the result would count for DMARC: SPF pass\n"+
			"and alignment (relaxed or strict, per aspf=) of the MAIL FROM domain with DOMAIN as the From: domain.")
	g := addGlobalFlags(fs)
	ip := fs.String("ip", "", "a sending IP address: would its SPF result align for DMARC?")
	sender := fs.String("sender", "", "the MAIL FROM address used with --ip (default postmaster@DOMAIN)")
	helo := fs.String("helo", "", "the HELO name used with --ip (default DOMAIN)")
	if code, done := parseFlags(fs, stdio, "dmarc", args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "dmarc", "want exactly one DOMAIN, got %d arguments", fs.NArg())
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "dmarc", "%v", err)
	}
	domain, err := dnscheck.NormalizeDomain(fs.Arg(0))
	if err != nil {
		return usageError(stdio, "dmarc", "%v", err)
	}
	var addr netip.Addr
	if *ip != "" {
		if addr, err = netip.ParseAddr(*ip); err != nil || addr.Zone() != "" {
			return usageError(stdio, "dmarc", "--ip %q is not an IP address", *ip)
		}
		addr = addr.Unmap()
	}
	mailFrom := "postmaster@" + domain
	if *sender != "" {
		_, dom, ok := strings.Cut(*sender, "@")
		if !ok || strings.Contains(dom, "@") {
			return usageError(stdio, "dmarc", "--sender %q is not an address (want local@domain)", *sender)
		}
		if _, err := dnscheck.NormalizeDomain(dom); err != nil {
			return usageError(stdio, "dmarc", "--sender: %v", err)
		}
		mailFrom = *sender
	}
	heloName := domain
	if *helo != "" {
		if heloName, err = dnscheck.NormalizeDomain(*helo); err != nil {
			return usageError(stdio, "dmarc", "--helo: %v", err)
		}
	}
	if (*sender != "" || *helo != "") && !addr.IsValid() {
		return usageError(stdio, "dmarc", "--sender and --helo need --ip (the address to evaluate)")
	}
	res, err := g.resolver()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray dmarc: %v\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	rep := report.New("dmarc", domain, version, time.Now())
	d := dmarc.Lookup(ctx, res, domain)
	if addr.IsValid() && d.Record != nil {
		ev := spf.CheckHost(ctx, res, addr, "", mailFrom, heloName)
		mfDomain := ev.Domain
		if mfDomain == "" {
			mfDomain = mailFrom[strings.LastIndexByte(mailFrom, '@')+1:]
		}
		a := dmarc.AlignSPF(ctx, res, domain, d.OrgDomain, d.OrgKnown, mfDomain, string(ev.Result), d.Record.ASPF == "s")
		d.Alignment = &a
	}
	sec := rep.Section("dmarc", "DMARC (RFC 9989, RFC 7489)")
	sec.Findings = d.Findings()
	sec.Detail = d
	rep.Trace = res.Trace()
	rep.Finish(time.Now())
	return g.render(stdio, rep)
}
