package check

// The report of `mxray blocklist IP|DOMAIN …` (and of mxray serve's
// blocklist page, API and /probe?module=blocklist): each target on each
// selected DNS blocklist, listed / not listed / unknown (RFC 5782 §2), with
// the lists' RFC 5782 §5 test points checked in the same round.

import (
	"context"
	"fmt"
	"strings"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/report"
)

// BlocklistInFlight is the bound on queries in flight a resolver for a
// blocklist report should have: enough for one target's whole first round
// — the query on each list and each list's two RFC 5782 test points (3 per
// list) — so one target costs about two round trips whatever the number of
// lists, and never more than 256, a bounded, modest load on the local
// resolver. Each blocklist itself sees at most a few queries at a time
// from us (dnsbl.DefaultConcurrency spreads the checks across lists).
func BlocklistInFlight(lists int) int {
	return min(max(3*lists+16, 64), 256)
}

// Blocklist looks targets (IP addresses, domains; each checked, a bad one
// is a finding) up on the lists cfg.DNSBL.Selection chooses, through
// cfg.Resolver, and returns the report. A Spamhaus DQS key, a credential,
// is kept out of the trace.
func Blocklist(ctx context.Context, cfg Config, targets []string) *report.Report {
	env := &Env{Config: &cfg}
	rep := report.New("blocklist", BlocklistTitle(targets), cfg.Version, env.Now())
	rep.Sections = append(rep.Sections, BlocklistSection(ctx, cfg.Resolver, cfg.DNSBL.Selection, targets))
	rep.Trace = redactDQS(traceOf(cfg.Resolver), cfg.DNSBL.Selection.DQSKey)
	rep.Finish(env.Now())
	return rep
}

// BlocklistSection checks targets on the selected lists and returns the
// report section. Commands that judge a sending IP (spf --ip) call it
// with dnsbl.Selection{} for the default lists.
func BlocklistSection(ctx context.Context, res dnscheck.Resolver, sel dnsbl.Selection, targets []string) report.Section {
	sec := report.Section{ID: "dnsbl", Title: "Blocklists (DNSBL, RFC 5782)"}
	lists, skipped, err := dnsbl.Select(sel)
	if err != nil {
		sec.Add(report.Finding{ID: "dnsbl.config", Severity: report.Unknown, Summary: "blocklists not checked: " + err.Error()})
		return sec
	}
	r := dnsbl.NewChecker(res, dnsbl.Options{Servers: serversOf(res)}).Check(ctx, lists, targets)
	r.Skipped = append(r.Skipped, skipped...)
	sec.Add(r.Findings()...)
	sec.Detail = r
	return sec
}

// BlocklistTitle, the report's target, names the targets: all of them up to three, else the
// first three and how many more.
func BlocklistTitle(targets []string) string {
	if len(targets) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(targets[:3], " "), len(targets)-3)
	}
	return strings.Join(targets, " ")
}

// serversOf are the servers a resolver asks, when it says (a
// dnscheck.Client): the lists' test points tell a refusal of these
// servers from a dead list.
func serversOf(r dnscheck.Resolver) []string {
	if c, ok := r.(interface{ Servers() []string }); ok {
		return c.Servers()
	}
	return nil
}

// redactDQS keeps a Spamhaus DQS key, a credential that is part of the
// query names, out of a trace.
func redactDQS(trace []report.Query, key string) []report.Query {
	if key = strings.ToLower(key); key != "" {
		for i := range trace {
			trace[i].Name = strings.ReplaceAll(trace[i].Name, key+".", "<dqs-key>.")
		}
	}
	return trace
}
