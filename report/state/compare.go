package state

import (
	"time"

	"github.com/mxray/mxray/report"
)

// What happened to a finding between two runs.
const (
	Appeared = "appeared" // new, at warning or failure
	Worsened = "worsened" // its severity went up
	Improved = "improved" // its severity went down
	Cleared  = "cleared"  // gone, and it was a warning or a failure
)

// Change is one finding that changed, with its state before and after.
type Change struct {
	Kind    string `json:"change"`
	Section string `json:"section"`
	ID      string `json:"id"`
	Subject string `json:"subject,omitempty"`
	// Before is absent for a finding that appeared, After for one that cleared.
	Before *report.Severity `json:"before,omitempty"`
	After  *report.Severity `json:"after,omitempty"`
	// Summary is the finding's summary now (before, for a cleared one).
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
	// Since is when the previous state began.
	Since time.Time `json:"since,omitempty"`
}

// key groups the findings that are "the same finding" across runs.
type key struct{ id, subject string }

// scope is what an unknown finding (or a section that did not run) left
// unobserved: a section, or one subject in it.
type scope struct{ section, subject string }

// Compare compares the report with the previous state (nil on a first
// run) and returns the changes to report and the state to save.
func Compare(prev *State, rep *report.Report, now time.Time) ([]Change, *State) {
	next := &State{SchemaVersion: report.SchemaVersion, Tool: "mxray", Kind: Kind, Command: rep.Command,
		Target: rep.Target, UpdatedAt: now, Report: rep}
	if prev == nil {
		next.Known = knownOf(rep, now)
		return nil, next
	}
	unobserved := unobservedScopes(prev, rep)
	prevBy, prevOrder := groupEntries(prev.Known)
	cur, fixes := currentEntries(rep, now)
	curBy, curOrder := groupEntries(cur)

	var changes []Change
	for _, k := range unionKeys(curOrder, prevOrder) {
		ch, kept := compareKey(prevBy[k], curBy[k], unobserved, fixes, now)
		changes = append(changes, ch...)
		next.Known = append(next.Known, kept...)
	}
	return changes, next
}

// unobservedScopes are the sections with an unknown finding in this run,
// and every section of the previous state that this run does not have (a
// part skipped, or one that could not run at all). A whole section, not
// only the unknown finding's subject: a failed lookup is often about
// something else than the finding it hides (a blocklist that did not
// answer is named by the list, its listing by the address), so a finding
// of that section that is gone may be gone only from sight. Its clearing
// waits for a run in which the section is fully observed; what appears,
// worsens or improves is still reported at once.
func unobservedScopes(prev *State, rep *report.Report) map[scope]bool {
	out := map[scope]bool{}
	ran := map[string]bool{}
	for _, s := range rep.Sections {
		ran[s.ID] = true
		for _, f := range s.Findings {
			if f.Severity == report.Unknown {
				out[scope{s.ID, ""}] = true
			}
		}
	}
	for _, e := range prev.Known {
		if !ran[e.Section] {
			out[scope{e.Section, ""}] = true
		}
	}
	return out
}

// covers is true when the entry lies in an unobserved scope: its section
// as a whole, or its subject in that section.
func covers(unobserved map[scope]bool, e Entry) bool {
	return unobserved[scope{e.Section, ""}] || unobserved[scope{e.Section, e.Subject}]
}

// currentEntries are the observed findings of the report, with their
// fixes by index for the change lines.
func currentEntries(rep *report.Report, now time.Time) ([]Entry, map[*Entry]string) {
	cur := knownOf(rep, now)
	fixes := map[*Entry]string{}
	i := 0
	for _, s := range rep.Sections {
		for _, f := range s.Findings {
			if f.Severity != report.Unknown {
				fixes[&cur[i]] = f.Fix
				i++
			}
		}
	}
	return cur, fixes
}

// groupEntries groups entries by key, keeping the order of first sight.
func groupEntries(es []Entry) (map[key][]*Entry, []key) {
	by := map[key][]*Entry{}
	var order []key
	for i := range es {
		k := key{es[i].ID, es[i].Subject}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], &es[i])
	}
	return by, order
}

func unionKeys(a, b []key) []key {
	seen := map[key]bool{}
	var out []key
	for _, list := range [][]key{a, b} {
		for _, k := range list {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// compareKey compares the findings of one key: the changes to report and
// the entries to keep as the new known state.
func compareKey(prev, cur []*Entry, unobserved map[scope]bool, fixes map[*Entry]string, now time.Time) ([]Change, []Entry) {
	pairs, gone, added := pair(prev, cur)
	var changes []Change
	var kept []Entry
	for _, p := range pairs {
		e := *p[1]
		if p[0].Severity == e.Severity {
			e.Since = p[0].Since
		} else {
			changes = append(changes, severityChange(p[0], p[1], fixes[p[1]]))
		}
		kept = append(kept, e)
	}
	for _, p := range gone {
		if covers(unobserved, *p) {
			kept = append(kept, *p) // unknown never replaces a known state
			continue
		}
		if notable(p.Severity) {
			changes = append(changes, Change{Kind: Cleared, Section: p.Section, ID: p.ID, Subject: p.Subject,
				Before: sevPtr(p.Severity), Summary: p.Summary, Since: p.Since})
		}
	}
	for _, c := range added {
		if notable(c.Severity) {
			changes = append(changes, Change{Kind: Appeared, Section: c.Section, ID: c.ID, Subject: c.Subject,
				After: sevPtr(c.Severity), Summary: c.Summary, Fix: fixes[c]})
		}
		kept = append(kept, *c)
	}
	return changes, kept
}

// pair matches the previous and current findings of one key: first those
// with the same summary (two listings of one address on different lists
// share id and subject, not summary), then the rest in order.
func pair(prev, cur []*Entry) (pairs [][2]*Entry, gone, added []*Entry) {
	usedP := make([]bool, len(prev))
	usedC := make([]bool, len(cur))
	for i, p := range prev {
		for j, c := range cur {
			if !usedC[j] && p.Summary == c.Summary {
				pairs = append(pairs, [2]*Entry{p, c})
				usedP[i], usedC[j] = true, true
				break
			}
		}
	}
	j := 0
	for i, p := range prev {
		if usedP[i] {
			continue
		}
		for j < len(cur) && usedC[j] {
			j++
		}
		if j == len(cur) {
			gone = append(gone, p)
			continue
		}
		pairs = append(pairs, [2]*Entry{p, cur[j]})
		usedC[j] = true
	}
	for j, c := range cur {
		if !usedC[j] {
			added = append(added, c)
		}
	}
	return pairs, gone, added
}

func severityChange(before, after *Entry, fix string) Change {
	kind := Improved
	if rank(after.Severity) > rank(before.Severity) {
		kind = Worsened
	} else {
		fix = ""
	}
	return Change{Kind: kind, Section: after.Section, ID: after.ID, Subject: after.Subject,
		Before: sevPtr(before.Severity), After: sevPtr(after.Severity), Summary: after.Summary, Fix: fix, Since: before.Since}
}

// notable findings ask someone to act: warnings and failures.
func notable(s report.Severity) bool { return s == report.Warning || s == report.Failure }

// rank orders the observed severities.
func rank(s report.Severity) int {
	switch s {
	case report.Info:
		return 1
	case report.Warning:
		return 2
	case report.Failure:
		return 3
	}
	return 0
}

func sevPtr(s report.Severity) *report.Severity { return &s }
