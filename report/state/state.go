// Package state keeps the last known state of a domain's findings between
// runs of `mxray check --state FILE`, and says what changed since: findings
// that appeared, worsened, improved or cleared. It is what lets a cron job
// stay silent until something changes, the way blocklist monitors alert
// only on a status change (HetrixTools, MXToolbox; see
// monitoring-conventions.md).
//
// Two rules keep the comparison honest:
//   - Unknown never replaces a known state. A finding that could not be
//     observed this time (a lookup that failed once, a part that did not
//     run) keeps its last known severity, so a transient failure is not
//     reported as "cleared" and then as "back".
//   - Findings at ok or info ask nothing of anyone: their appearing or
//     clearing is recorded but not reported. A change of severity of a
//     finding that stays is always reported.
//
// The file is written atomically (internal/atomicfile), so a run killed
// while saving leaves the previous state readable.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mxray/mxray/internal/atomicfile"
	"github.com/mxray/mxray/report"
)

// Kind marks a state document (a report document has no kind).
const Kind = "mxray-state"

// State is what the state file holds: the last known severity of every
// finding, and the last report as it was.
type State struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Kind          string    `json:"kind"`
	Command       string    `json:"command"`
	Target        string    `json:"target"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Known is the last known state of each finding, including findings
	// carried over from earlier runs while they could not be observed.
	Known  []Entry        `json:"known"`
	Report *report.Report `json:"report,omitempty"`
}

// Entry is the last known state of one finding.
type Entry struct {
	Section  string          `json:"section"`
	ID       string          `json:"id"`
	Subject  string          `json:"subject,omitempty"`
	Severity report.Severity `json:"severity"`
	Summary  string          `json:"summary"`
	// Since is when the finding was first seen at this severity.
	Since time.Time `json:"since"`
}

// header is read first, to decide how to read the rest.
type header struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          string `json:"tool"`
	Kind          string `json:"kind"`
	Command       string `json:"command"`
	Target        string `json:"target"`
}

// ErrWrongTarget is returned when the file is the state of another check.
var ErrWrongTarget = errors.New("the state file belongs to another check")

// Load reads the state file at path for the check (command, target). A
// missing file is a first run: nil state, no error. The file may be a
// state document of this schema or an mxray JSON report of schema 1 or 2
// (`--format json` output), whose findings become the known state; a newer
// schema or anything else is refused with a message that says what to do.
func Load(path, command, target string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parse(path, data, command, target)
}

func parse(path string, data []byte, command, target string) (*State, error) {
	var h header
	if err := json.Unmarshal(data, &h); err != nil || h.Tool != "mxray" || h.SchemaVersion < 1 {
		return nil, fmt.Errorf("%s is not an mxray state file or JSON report; move it away and the next run records a new state", path)
	}
	if h.SchemaVersion > report.SchemaVersion {
		return nil, fmt.Errorf("%s has schema_version %d, written by a newer mxray; this one reads schema 1 to %d: upgrade mxray, or move the file away and the next run records a new state",
			path, h.SchemaVersion, report.SchemaVersion)
	}
	if h.Command != command || h.Target != target {
		return nil, fmt.Errorf("%w: %s holds the state of 'mxray %s %s', not of 'mxray %s %s'", ErrWrongTarget, path, h.Command, h.Target, command, target)
	}
	if h.Kind == Kind {
		var st State
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return &st, nil
	}
	if h.Kind != "" {
		return nil, fmt.Errorf("%s is a %q document, not an mxray state file or JSON report", path, h.Kind)
	}
	return fromReport(path, data)
}

// fromReport reads an mxray JSON report (schema 1 or 2: the findings have
// the same shape in both) as the known state.
func fromReport(path string, data []byte) (*State, error) {
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s: not a readable mxray report: %v", path, err)
	}
	st := &State{SchemaVersion: report.SchemaVersion, Tool: "mxray", Kind: Kind, Command: rep.Command,
		Target: rep.Target, UpdatedAt: rep.StartedAt, Report: &rep}
	st.Known = knownOf(&rep, rep.StartedAt)
	return st, nil
}

// knownOf is every observed (not unknown) finding of the report.
func knownOf(rep *report.Report, since time.Time) []Entry {
	var out []Entry
	for _, s := range rep.Sections {
		for _, f := range s.Findings {
			if f.Severity != report.Unknown {
				out = append(out, entryOf(s.ID, f, since))
			}
		}
	}
	return out
}

func entryOf(section string, f report.Finding, since time.Time) Entry {
	return Entry{Section: section, ID: f.ID, Subject: f.Subject, Severity: f.Severity, Summary: f.Summary, Since: since}
}

// Save writes the state to path atomically.
func Save(path string, st *State) error { return save(path, st, nil) }

// save is Save with a hook around the file's writer, for the test that
// kills a process in the middle of writing.
func save(path string, st *State, wrap func(io.Writer) io.Writer) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(w)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(st)
	})
}
