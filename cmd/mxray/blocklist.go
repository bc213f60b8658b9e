package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/dnsbl"

	"github.com/spf13/pflag"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "blocklist", order: 60, summary: "listed / not listed / unknown on each DNS blocklist, with the list's meaning and delisting page",
		usage: "mxray blocklist IP|DOMAIN [...] [flags]", run: runBlocklist})
	checkFlagHooks = append(checkFlagHooks, func(fs *pflag.FlagSet) func(cfg *check.Config) error {
		f := addDNSBLFlags(fs)
		f.env = os.Getenv
		return func(cfg *check.Config) error {
			sel, err := f.selection()
			if err != nil {
				return err
			}
			cfg.DNSBL.Selection = sel
			return nil
		}
	})
}

// dnsblFlags are the list-choosing flags of 'blocklist' and 'check'.
type dnsblFlags struct {
	lists  []string
	file   string
	dqsKey string
	all    bool
	env    func(string) string
}

func addDNSBLFlags(fs *pflag.FlagSet) *dnsblFlags {
	f := &dnsblFlags{}
	fs.StringArrayVar(&f.lists, "list", nil, "blocklist ZONE[:KIND,...] to add (KIND ipv4, ipv6, domain), or -ZONE to remove (repeatable)")
	fs.StringVar(&f.file, "lists", "", "read the blocklists from FILE instead of the defaults: one ZONE[:KIND] or -ZONE a line, or JSON definitions in the catalog's schema")
	fs.StringVar(&f.dqsKey, "dqs-key", "", "Spamhaus Data Query Service key: query Spamhaus through DQS (default: $MXRAY_DQS_KEY)")
	fs.BoolVar(&f.all, "all-lists", false, "query every list of the catalog, legacy and defunct ones included")
	return f
}

func (f *dnsblFlags) selection() (dnsbl.Selection, error) {
	sel := dnsbl.Selection{All: f.all, DQSKey: f.dqsKey}
	if sel.DQSKey == "" && f.env != nil {
		sel.DQSKey = f.env("MXRAY_DQS_KEY")
	}
	if f.file != "" {
		fh, err := os.Open(f.file)
		if err != nil {
			return sel, fmt.Errorf("--lists: %v", err)
		}
		defer fh.Close()
		data, err := io.ReadAll(io.LimitReader(fh, 4<<20))
		if err != nil {
			return sel, fmt.Errorf("--lists: %v", err)
		}
		sel.Replace = true
		if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "{") {
			// Full definitions, in the catalog's JSON schema.
			if sel.Custom, err = dnsbl.ParseDefinitions(data); err != nil {
				return sel, fmt.Errorf("--lists %s: %v", f.file, err)
			}
		} else if sel.Lists, err = dnsbl.ParseListFile(strings.NewReader(string(data))); err != nil {
			return sel, fmt.Errorf("--lists %s: %v", f.file, err)
		}
	}
	sel.Lists = append(sel.Lists, f.lists...)
	// Resolve now, so that a bad zone is a usage error, not a finding.
	if _, _, err := dnsbl.Select(sel); err != nil {
		return sel, err
	}
	return sel, nil
}

func runBlocklist(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("blocklist", stdio, "mxray blocklist IP|DOMAIN [...] [flags]",
		"Looks each IP address (IPv4, IPv6) or domain up on DNS blocklists and says, per list: listed (with the\n"+
			"list's own meaning of the answer, its TXT reason and its delisting page), not listed, or unknown and why\n"+
			"(timeout, error code such as Spamhaus 127.255.255.254 for public resolvers, a dead or wildcarded list).\n"+
			"Each list's RFC 5782 test points are checked in the same round. '-' reads targets from standard input.\n"+
			"Default lists: "+strings.Join(defaultZones(), ", ")+".")
	g := addGlobalFlags(fs)
	lf := addDNSBLFlags(fs)
	lf.env = stdio.Env
	catalog := fs.Bool("catalog", false, "show the catalog of blocklists (zones, kinds, status, defaults) and exit")
	if code, done := parseFlags(fs, stdio, "blocklist", args); done {
		return code
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "blocklist", "%v", err)
	}
	if *catalog {
		rep := report.New("blocklist", "--catalog", version, time.Now())
		sec := rep.Section("catalog", "Blocklist catalog")
		sec.Detail = dnsbl.CatalogView{Lists: dnsbl.Catalog()}
		rep.Finish(time.Now())
		return g.render(stdio, rep)
	}
	if fs.NArg() == 0 {
		return usageError(stdio, "blocklist", "want at least one IP address or domain (or - for standard input)")
	}
	var targets []string
	for _, a := range fs.Args() {
		if a == "-" {
			in, err := readTargets(stdio.Stdin)
			if err != nil {
				return usageError(stdio, "blocklist", "reading targets: %v", err)
			}
			targets = append(targets, in...) // checked per target: a bad line is a finding
			continue
		}
		if err := dnsbl.ValidTarget(a); err != nil {
			return usageError(stdio, "blocklist", "%q: want an IP address or a domain name", a)
		}
		targets = append(targets, a)
	}
	if len(targets) == 0 {
		return usageError(stdio, "blocklist", "no targets on standard input")
	}
	sel, err := lf.selection()
	if err != nil {
		return usageError(stdio, "blocklist", "%v", err)
	}
	lists, _, err := dnsbl.Select(sel)
	if err != nil {
		return usageError(stdio, "blocklist", "%v", err)
	}
	res, err := g.resolverWith(dnscheck.Options{MaxInFlight: check.BlocklistInFlight(len(lists))})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray blocklist: %v\n", err)
		return report.ExitUnknown
	}
	ctx, cancel := g.context(ctx)
	defer cancel()
	cfg := check.Config{Resolver: res, Version: version, DNSBL: check.DNSBLOptions{Selection: sel}}
	return g.render(stdio, check.Blocklist(ctx, cfg, targets))
}

// readTargets reads whitespace-separated targets; '#' starts a comment.
func readTargets(r io.Reader) ([]string, error) {
	if r == nil {
		return nil, nil
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.Fields(line)...)
	}
	return out, sc.Err()
}

func defaultZones() []string {
	var z []string
	for _, l := range dnsbl.DefaultLists() {
		z = append(z, l.Zone)
	}
	return z
}
