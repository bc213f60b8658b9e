// Package reporttest holds helpers for the table tests of the checks: a
// list of findings reduced to the form the tables compare against.
package reporttest

import (
	"sort"
	"strings"

	"github.com/mxray/mxray/report"
)

// Severities maps each finding id to its worst severity. A finding without
// a summary is a bug in the check that made it, so it panics.
func Severities(fs []report.Finding) map[string]report.Severity {
	m := map[string]report.Severity{}
	for _, f := range fs {
		if old, ok := m[f.ID]; !ok || report.Worst(old, f.Severity) == f.Severity {
			m[f.ID] = f.Severity
		}
		if f.Summary == "" {
			panic("finding without summary: " + f.ID)
		}
	}
	return m
}

// IDs writes a Severities map as "id=severity" pairs in sorted order, the
// form table tests compare against.
func IDs(m map[string]report.Severity) string {
	out := make([]string, 0, len(m))
	for id, s := range m {
		out = append(out, id+"="+s.String())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// ByID returns the findings with the given id, in order.
func ByID(fs []report.Finding, id string) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}
