package serve

import (
	"strings"
	"testing"

	"github.com/mxray/mxray/report"
)

// TestPreflightHeadline: a preflight's exit code comes from its provider
// table, so its headline counts the rows that fail or could not be
// checked — never "failure — 0 failures found".
func TestPreflightHeadline(t *testing.T) {
	row := func(id string, st report.RequirementStatus, applies bool) report.Requirement {
		return report.Requirement{Provider: "gmail", ID: id, Status: st, Applies: applies}
	}
	for _, tc := range []struct {
		name        string
		reqs        []report.Requirement
		worst, head string
	}{
		{"two rows fail", []report.Requirement{row("dmarc", report.ReqFail, true), row("spf", report.ReqFail, true),
			row("ptr", report.ReqUnknown, true), row("tls", report.ReqFail, false)}, "failure", "2 provider requirements failed, 1 could not be checked"},
		{"one unknown", []report.Requirement{row("dmarc", report.ReqUnknown, true), row("spf", report.ReqPass, true)},
			"unknown", "1 provider requirement could not be checked, none failed"},
		{"all pass", []report.Requirement{row("spf", report.ReqPass, true), row("tls", report.ReqManual, true)},
			"ok", "no provider requirement that applies failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report.Report{Requirements: tc.reqs}
			rep.Sections = []report.Section{{ID: "x", Findings: []report.Finding{{ID: "x.ok", Severity: report.OK}}}}
			v := viewSummary(rep)
			if v.Worst != tc.worst || !strings.HasPrefix(v.Headline, tc.head) {
				t.Errorf("%s: %q, want %s: %q", v.Worst, v.Headline, tc.worst, tc.head)
			}
		})
	}
}
