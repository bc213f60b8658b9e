package state

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/mxray/mxray/report"
)

// WriteChanges writes the changes for a person: a header line, then one
// line per change with its severity before → after. It writes nothing at
// all when there are no changes, so that cron sends no mail.
func WriteChanges(w io.Writer, rep *report.Report, prev *State, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	bw := bufio.NewWriter(w)
	line := func(s string) { bw.WriteString(report.Printable(s) + "\n") }
	line(fmt.Sprintf("mxray %s %s: %d %s since %s; now %s", rep.Command, rep.Target, len(changes),
		plural(len(changes), "change", "changes"), stamp(prev.UpdatedAt), nowSummary(rep)))
	for _, c := range changes {
		subj := ""
		if c.Subject != "" {
			subj = " (" + c.Subject + ")"
		}
		line(fmt.Sprintf("  %-9s %s%s: %s → %s: %s", c.Kind, c.ID, subj, before(c), after(c), c.Summary))
		if c.Fix != "" {
			line("            fix: " + c.Fix)
		}
	}
	return bw.Flush()
}

// WriteFirstRun writes the one line of a first run: the state is recorded.
func WriteFirstRun(w io.Writer, rep *report.Report, path string) error {
	_, err := fmt.Fprintln(w, report.Printable(fmt.Sprintf("mxray %s %s: first run, state recorded in %s; now %s",
		rep.Command, rep.Target, path, nowSummary(rep))))
	return err
}

// changesDoc is the JSON form of a run with changes.
type changesDoc struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          string        `json:"tool"`
	Kind          string        `json:"kind"`
	Command       string        `json:"command"`
	Target        string        `json:"target"`
	FirstRun      bool          `json:"first_run,omitempty"`
	Since         time.Time     `json:"since,omitzero"`
	ExitCode      int           `json:"exit_code"`
	Summary       report.Counts `json:"summary"`
	Changes       []Change      `json:"changes"`
}

// WriteChangesJSON is WriteChanges as one JSON document ("kind":
// "mxray-changes"); nothing at all when there are no changes and it is not
// a first run.
func WriteChangesJSON(w io.Writer, rep *report.Report, prev *State, changes []Change) error {
	if prev != nil && len(changes) == 0 {
		return nil
	}
	doc := changesDoc{SchemaVersion: report.SchemaVersion, Tool: "mxray", Kind: "mxray-changes", Command: rep.Command,
		Target: rep.Target, FirstRun: prev == nil, ExitCode: rep.ExitCode(), Summary: rep.Summary, Changes: changes}
	if prev != nil {
		doc.Since = prev.UpdatedAt
	}
	if doc.Changes == nil {
		doc.Changes = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func before(c Change) string {
	if c.Before == nil {
		return "(new)"
	}
	return c.Before.String()
}

func after(c Change) string {
	if c.After == nil {
		return "cleared"
	}
	return c.After.String()
}

// nowSummary is the current counts and exit code in a few words.
func nowSummary(rep *report.Report) string {
	c := rep.Summary
	return fmt.Sprintf("%d failure, %d warning, %d unknown, %d ok/info (exit %d)", c.Failure, c.Warning, c.Unknown, c.OK+c.Info, rep.ExitCode())
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
