package report

// Requirements: the rows of a provider table (mxray preflight). Each row is
// one requirement of one mailbox provider's published rules, judged pass,
// fail, unknown (could not be checked) or manual (only the sender can see
// it), with the rejection the provider documents for it.

import (
	"fmt"
	"strings"
)

// RequirementStatus is the judgement of one requirement.
type RequirementStatus string

const (
	ReqPass    RequirementStatus = "pass"
	ReqFail    RequirementStatus = "fail"
	ReqUnknown RequirementStatus = "unknown" // could not be checked (DNS failure, ...): never a pass or a fail
	ReqManual  RequirementStatus = "manual"  // mxray cannot see it (spam rate, TLS of the platform, no --message)
)

// Reply is an SMTP reply a provider documents, explained by the catalog.
type Reply struct {
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced,omitempty"`
	Text     string `json:"text"`
	// Explained is the reply catalog's reading of the reply (what
	// `mxray explain` says about it).
	Explained *ReplyExplanation `json:"explained,omitempty"`
	Source    string            `json:"source,omitempty"` // the provider page that documents it
}

// String is the reply as a server sends it: "550 5.7.26 text".
func (r Reply) String() string {
	s := fmt.Sprint(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	return s + " " + r.Text
}

// ReplyExplanation is the part of a catalog explanation a report carries.
type ReplyExplanation struct {
	Entry    string `json:"entry"`
	Cause    string `json:"cause"`
	Reason   string `json:"reason"`
	ActionBy string `json:"action_by,omitempty"`
	Summary  string `json:"summary"`
	Fix      string `json:"fix,omitempty"`
}

// Requirement is one row of the provider table.
type Requirement struct {
	Provider     string            `json:"provider"` // gmail, yahoo, microsoft
	ProviderName string            `json:"provider_name,omitempty"`
	ID           string            `json:"id"` // spf, dkim, dmarc, alignment, ptr, ...
	Status       RequirementStatus `json:"status"`
	// Applies is false when the provider does not require it of this
	// sender (below its bulk threshold, or only recommended); such a row
	// never decides the exit code.
	Applies bool   `json:"applies"`
	Summary string `json:"summary"`
	// Note says why the row applies or not ("5,000 or more a day").
	Note string `json:"note,omitempty"`
	// Reply is the rejection the provider documents for this requirement.
	Reply      *Reply   `json:"reply,omitempty"`
	Findings   []string `json:"findings,omitempty"` // ids of the evidence findings
	References []string `json:"references,omitempty"`
}

// requirementExit is the exit code of the provider table, when a report
// has one: 2 when an applicable requirement fails, 3 when one could not be
// checked and none failed; otherwise the findings' evidence decides
// between 0 and 1 (a warning, a failure or an unknown outside the table is
// worth a look, but no provider refuses the campaign for it).
func (r *Report) requirementExit() int {
	failed, unknown := false, false
	for _, q := range r.Requirements {
		if !q.Applies {
			continue
		}
		failed = failed || q.Status == ReqFail
		unknown = unknown || q.Status == ReqUnknown
	}
	switch {
	case failed:
		return ExitFailure
	case unknown:
		return ExitUnknown
	case worst(r.Findings()) != OK && worst(r.Findings()) != Info:
		return ExitWarning
	}
	return ExitOK
}

// writeRequirements renders the provider table: one row per requirement
// id, one column per provider, then a line per row that fails or could not
// be checked, with the provider's documented reply and its explanation.
func (p textPrinter) writeRequirements(reqs []Requirement) {
	var providers, ids []string
	names := map[string]string{}
	cell := map[[2]string]Requirement{}
	for _, q := range reqs {
		if _, ok := names[q.Provider]; !ok {
			providers = append(providers, q.Provider)
			names[q.Provider] = q.ProviderName
		}
		if !containsString(ids, q.ID) {
			ids = append(ids, q.ID)
		}
		cell[[2]string{q.ID, q.Provider}] = q
	}
	p.line(p.c(ansiBold, "Provider rules") + p.c(ansiDim, "  (pass | FAIL | unknown | manual; in parentheses: not required of this sender)"))
	head := fmt.Sprintf("  %-24s", "requirement")
	for _, pr := range providers {
		head += fmt.Sprintf(" %-12s", columnName(names[pr], pr))
	}
	p.line(p.c(ansiDim, strings.TrimRight(head, " ")))
	for _, id := range ids {
		row := fmt.Sprintf("  %-24s", id)
		for _, pr := range providers {
			q, ok := cell[[2]string{id, pr}]
			text, color := "—", ""
			if ok {
				text, color = statusCell(q)
			}
			row += " " + p.c(color, text) + strings.Repeat(" ", max(0, 12-len([]rune(text))))
		}
		p.line(strings.TrimRight(row, " "))
	}
	p.writeRequirementDetails(reqs)
}

// writeRequirementDetails lists the applicable rows that fail or are
// unknown (the JSON has every row).
func (p textPrinter) writeRequirementDetails(reqs []Requirement) {
	for _, q := range reqs {
		if !q.Applies || q.Status != ReqFail && q.Status != ReqUnknown {
			continue
		}
		label, color := statusCell(q)
		p.line("")
		p.wrapped("  "+p.c(color, label)+" "+columnName(q.ProviderName, q.Provider)+" "+q.ID+": ", q.Summary)
		if q.Note != "" {
			p.wrapped("      note: ", q.Note)
		}
		if q.Reply != nil {
			p.wrapped("      reply: ", q.Reply.String())
			if e := q.Reply.Explained; e != nil {
				p.wrapped("      explain: ", e.Summary+" ("+e.Entry+", "+e.Reason+")")
				if e.Fix != "" {
					p.wrapped("      fix: ", e.Fix)
				}
			}
		}
		if len(q.Findings) > 0 {
			p.wrapped("      evidence: ", strings.Join(q.Findings, ", "))
		}
	}
}

// columnName is the short name of a provider: the part of its name before
// a space or parenthesis ("Microsoft (Outlook.com, …)" → "Microsoft").
func columnName(name, id string) string {
	if name == "" {
		return id
	}
	if i := strings.Index(name, " ("); i > 0 {
		return name[:i]
	}
	return name
}

func statusCell(q Requirement) (string, string) {
	text, color := string(q.Status), ""
	switch q.Status {
	case ReqPass:
		color = ansiGreen
	case ReqFail:
		text, color = "FAIL", ansiRed
	case ReqUnknown:
		color = ansiPurple
	case ReqManual:
		color = ansiBlue
	}
	if !q.Applies {
		return "(" + text + ")", ansiDim
	}
	return text, color
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
