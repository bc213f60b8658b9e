package dnsbl

// Findings of a blocklist check. One finding per listing (dnsbl.listed), one
// per list that could not answer (dnsbl.refused, dnsbl.list-unhealthy,
// dnsbl.unknown; grouped by list and reason so a refusing list is one
// finding, not one per target), one per clean target (dnsbl.not-listed), and
// the resolver advice (dnsbl.public-resolver) when the configured resolver is
// one that Spamhaus, URIBL and SURBL refuse (info: it is about the checker's
// resolver, not the target).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mxray/mxray/report"
)

var dnsblRefs = []string{"RFC 5782 §2 (DNSBL query and answer format)", "RFC 5782 §5 (test points)"}

// dnsblResolverFix is the fix for refused queries: a resolver of one's own or a
// Spamhaus DQS key.
const dnsblResolverFix = "Query the blocklists through a recursive resolver of your own rather than a shared or public one " +
	"(for example unbound on this machine, then --resolver 127.0.0.1), or, for Spamhaus, register a free " +
	"Data Query Service key and pass it with --dqs-key (or MXRAY_DQS_KEY)."

// Findings turns the report into findings.
func (r *Report) Findings() []report.Finding {
	var fs []report.Finding
	if r.PublicResolver != "" {
		var refusing []string
		for _, z := range r.Lists {
			if l := r.lists[z]; l.RefusesPublicResolvers && l.Key == "" {
				refusing = append(refusing, l.Name)
			}
		}
		// Info, not a warning: it is about the checker's resolver, not the
		// target; the refusals it causes are reported as unknown results.
		f := report.Finding{ID: "dnsbl.public-resolver", Severity: report.Info,
			Summary:  "the resolver is " + r.PublicResolver + ", a public resolver: several blocklists refuse queries relayed through it",
			Evidence: []string{"resolvers: " + strings.Join(r.Resolvers, ", ")},
			Cause: "Spamhaus answers queries that reach its public mirrors through public resolvers with the error code 127.255.255.254 " +
				"(or nothing at all), and URIBL and SURBL answer 127.0.0.1 (\"query refused\"); a naive checker reads both as listings. " +
				"mxray reports such answers as unknown.",
			Fix:        dnsblResolverFix,
			References: []string{"docs.spamhaus.com: public mirrors and return codes", "uribl.com/refused.shtml"},
		}
		if len(refusing) > 0 {
			f.Evidence = append(f.Evidence, "lists here that refuse public resolvers: "+strings.Join(refusing, ", "))
		}
		fs = append(fs, f)
	}
	for _, s := range r.Skipped {
		fs = append(fs, report.Finding{ID: "dnsbl.skipped", Severity: report.Info, Subject: s.Zone,
			Summary: s.Name + " was not queried: " + s.Reason})
	}
	for _, b := range r.BadTargets {
		fs = append(fs, report.Finding{ID: "dnsbl.bad-target", Severity: report.Unknown,
			Summary: "not checked: " + b, Fix: "give an IPv4 or IPv6 address or a domain name"})
	}

	// Listings, per target in target order.
	byTarget := map[string][]Result{}
	for _, res := range r.Results {
		byTarget[res.Target] = append(byTarget[res.Target], res)
	}
	for _, t := range r.Targets {
		if len(byTarget[t]) == 0 {
			kind := ""
			if pt, err := parseDNSBLTarget(t); err == nil {
				kind = pt.Kind
			}
			fs = append(fs, report.Finding{ID: "dnsbl.no-list", Severity: report.Info, Subject: t,
				Summary: "none of the selected blocklists takes " + kind + " targets, so " + t + " was not looked up"})
			continue
		}
		var clean []string
		for _, res := range byTarget[t] {
			switch res.Status {
			case Listed:
				fs = append(fs, r.listedFinding(res))
			case NotListed:
				clean = append(clean, res.List)
			}
		}
		if len(clean) > 0 {
			fs = append(fs, report.Finding{ID: "dnsbl.not-listed", Severity: report.OK, Subject: t,
				Summary: fmt.Sprintf("not listed on %d %s: %s", len(clean), dnsblPlural(len(clean), "list", "lists"), strings.Join(clean, ", "))})
		}
	}

	// Unknowns, grouped by list and reason.
	type group struct {
		res     Result
		targets []string
	}
	var order []string
	groups := map[string]*group{}
	for _, res := range r.Results {
		if res.Status != Unknown {
			continue
		}
		k := res.Zone + "\x00" + res.Reason
		g, ok := groups[k]
		if !ok {
			g = &group{res: res}
			groups[k] = g
			order = append(order, k)
		}
		g.targets = append(g.targets, res.Target)
	}
	for _, k := range order {
		g := groups[k]
		fs = append(fs, r.unknownFinding(g.res, g.targets))
	}
	return fs
}

func (r *Report) listedFinding(res Result) report.Finding {
	l := r.lists[res.Zone]
	var short []string
	for _, m := range res.Meanings {
		if _, after, ok := strings.Cut(m, ": "); ok {
			m = after
		}
		short = append(short, m)
	}
	f := report.Finding{ID: "dnsbl.listed", Severity: report.Failure, Subject: res.Target,
		Summary:    fmt.Sprintf("listed on %s: %s", l.DescribeOr(res), strings.Join(short, "; ")),
		Evidence:   append([]string(nil), res.Evidence...),
		References: append([]string(nil), dnsblRefs...),
	}
	for _, t := range res.TXT {
		f.Evidence = append(f.Evidence, "TXT: "+t)
	}
	f.Cause = "The list's answer means: " + strings.Join(res.Meanings, "; ") + "."
	if l.Note != "" {
		f.Cause += " " + l.Note
	}
	if l.Status != "active" {
		f.Cause += " " + l.StatusNote()
	}
	fix := "Find and stop what got the " + map[bool]string{true: "domain", false: "address"}[res.Kind == KindDomain] +
		" listed (the TXT record and the list's lookup page say why), then request removal"
	if res.DelistURL != "" {
		fix += " at " + res.DelistURL
	} else if res.LookupURL != "" {
		fix += " via " + res.LookupURL
	}
	f.Fix = fix + "."
	if len(res.Fixes) > 0 {
		// The list documents what this kind of listing asks for (PBL: a
		// smarthost, or delisting a static address), which is not "stop
		// the abuse".
		f.Fix = strings.Join(res.Fixes, " ")
		if u := dnsblFirst(res.DelistURL, res.LookupURL); u != "" {
			f.Fix += " Delisting page: " + u + "."
		}
	}
	for _, s := range l.Sources {
		// Sources inside the project (../shared/...) mean nothing to a user.
		if !strings.HasPrefix(s, "../") {
			f.References = append(f.References, s)
		}
	}
	return f
}

func (r *Report) unknownFinding(res Result, targets []string) report.Finding {
	l := r.lists[res.Zone]
	f := report.Finding{Severity: report.Unknown, Subject: res.Zone, References: append([]string(nil), dnsblRefs...)}
	what := strings.Join(targets, ", ")
	f.Evidence = append(f.Evidence, "targets: "+what)
	if res.Query != "" {
		f.Evidence = append(f.Evidence, res.Evidence...)
	}
	switch {
	case res.Refused:
		f.ID = "dnsbl.refused"
		f.Summary = fmt.Sprintf("%s refused to answer this resolver, so whether %s %s listed is unknown", l.DescribeOr(res), what, dnsblPlural(len(targets), "is", "are"))
		f.Cause = res.Reason + ". This is a refusal, not a listing."
		f.Fix = dnsblResolverFix
	case res.Unhealthy:
		f.ID = "dnsbl.list-unhealthy"
		f.Summary = fmt.Sprintf("%s failed its health check; its answers are ignored", l.DescribeOr(res))
		f.Cause = res.Reason + "."
		for _, h := range r.Health {
			if h.Zone == res.Zone && h.Kind == res.Kind {
				f.Evidence = append(f.Evidence, h.Evidence...)
			}
		}
		if l.Status != "active" {
			f.Cause += " " + l.StatusNote()
		}
		f.Fix = "Do not use this list (remove it with --list -" + res.Zone + "); if it should work, check that your resolver may query it" +
			" (some lists require the resolver to be registered, and some refuse shared or public resolvers)."
	default:
		f.ID = "dnsbl.unknown"
		f.Summary = fmt.Sprintf("could not tell whether %s %s listed on %s", what, dnsblPlural(len(targets), "is", "are"), l.DescribeOr(res))
		f.Cause = res.Reason + "."
		f.Fix = "Retry later; if it persists, check the resolver (--resolver) and the list's status."
	}
	return f
}

// DescribeOr describes the list, falling back to the result's names for a
// list not in the report's index.
func (l List) DescribeOr(res Result) string {
	if l.Zone == "" {
		if res.List != "" && res.List != res.Zone {
			return res.List + " (" + res.Zone + ")"
		}
		return res.Zone
	}
	return l.Describe()
}

func dnsblFirst(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func dnsblPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// DetailLines is the table of results for the text report: one line per
// target and list.
func (r *Report) DetailLines() []string {
	if len(r.Results) == 0 {
		return nil
	}
	res := append([]Result(nil), r.Results...)
	pos := map[string]int{}
	for i, t := range r.Targets {
		pos[t] = i
	}
	sort.SliceStable(res, func(i, j int) bool { return pos[res[i].Target] < pos[res[j].Target] })
	wt, wz := 6, 4
	for _, x := range res {
		wt = max(wt, len(x.Target))
		wz = max(wz, len(x.Zone))
	}
	lines := []string{fmt.Sprintf("%-*s  %-*s  %-10s  %s", wt, "target", wz, "list", "status", "answer")}
	for _, x := range res {
		var detail string
		switch {
		case x.Status == Listed:
			detail = strings.Join(x.Meanings, "; ")
		case x.Status == NotListed:
			detail = "no A record"
		case x.Unhealthy && x.Refused:
			detail = "list refuses this resolver (test points)"
		case x.Unhealthy:
			detail = "list failed its RFC 5782 health check"
		case x.Refused:
			detail = "refused: " + strings.Join(x.Codes, ", ")
		default:
			detail = x.Reason
			if r := []rune(detail); len(r) > 90 {
				detail = string(r[:87]) + "..."
			}
		}
		lines = append(lines, fmt.Sprintf("%-*s  %-*s  %-10s  %s", wt, x.Target, wz, x.Zone, x.Status, detail))
	}
	return lines
}

// CatalogView presents catalog entries (mxray blocklist --catalog).
type CatalogView struct {
	Lists []List `json:"lists"`
}

// DetailLines is one line per list: zone, kinds, status, whether it is
// queried by default, name, and the restrictions or status note.
func (v CatalogView) DetailLines() []string {
	wz := 4
	for _, l := range v.Lists {
		wz = max(wz, len(l.Zone))
	}
	lines := []string{fmt.Sprintf("%-*s  %-16s  %-8s  %-7s  %s", wz, "zone", "kind", "status", "default", "name")}
	for _, l := range v.Lists {
		def := ""
		switch {
		case l.NeedsKey:
			def = "dqs-key"
		case l.Default && l.Status == "active":
			def = "yes"
		}
		lines = append(lines, fmt.Sprintf("%-*s  %-16s  %-8s  %-7s  %s", wz, l.Zone, strings.Join(l.Kind, ","), l.Status, def, l.Name))
		if n := l.StatusNote(); n != "" {
			lines = append(lines, strings.Repeat(" ", wz+2)+"  "+n)
		}
	}
	return lines
}
