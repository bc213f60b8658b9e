package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON document written by --format json.
// Bump it when a field is removed or changes meaning; adding fields does not.
const SchemaVersion = 2

// Severity orders how bad a finding is. The zero value is OK.
type Severity int

const (
	OK      Severity = iota // observed and correct
	Info                    // observed, worth knowing, nothing to fix
	Warning                 // works today, but is fragile, deprecated or weak
	Failure                 // observed and broken: mail is (or will be) affected
	Unknown                 // could not be observed (timeout, SERVFAIL, blocked port); never a pass or a fail
)

var severityNames = [...]string{"ok", "info", "warning", "failure", "unknown"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity is the inverse of String.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q", name)
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseSeverity(name)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one observation about the target, with the evidence that backs
// it. IDs are stable ("mx.null-mx-mixed", "spf.lookup-limit", "dnsbl.listed")
// and documented; monitoring may key on them.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Subject is what the finding is about when a section has many things:
	// an MX host, an IP address, a selector. Empty for the target itself.
	Subject string `json:"subject,omitempty"`
	Summary string `json:"summary"`
	// Evidence is what was observed: raw records, replies, timings, the
	// query that failed. One item per line of evidence.
	Evidence []string `json:"evidence,omitempty"`
	Cause    string   `json:"cause,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	// Publish holds DNS records to publish (zone-file syntax) when the fix is a
	// record that is missing or wrong.
	Publish    []string `json:"publish,omitempty"`
	References []string `json:"references,omitempty"`
}

// Section groups the findings of one check ("mx", "spf", "smtp", ...).
type Section struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Findings []Finding `json:"findings"`
	// Detail is the typed result of the check (the SPF tree, the SMTP
	// transcript, ...), encoded as-is in JSON. If it implements Detailer, the
	// text renderer shows its lines under the section.
	Detail any `json:"detail,omitempty"`
	// Measurements are the section's numbers for monitoring (Nagios
	// perfdata, Prometheus metrics); Finish fills them from a Detail that
	// is a Measurer.
	Measurements *Measurements `json:"measurements,omitempty"`
}

// MarshalJSON writes a section with no findings as "findings": [], never
// null: the schema promises an array (docs/json-schema.md).
func (s Section) MarshalJSON() ([]byte, error) {
	type plain Section
	if s.Findings == nil {
		s.Findings = []Finding{}
	}
	return json.Marshal(plain(s))
}

// Detailer lets a typed result contribute lines to the text report without
// printing anything itself.
type Detailer interface {
	DetailLines() []string
}

// Worst is the highest severity in the section, by ExitCode order.
func (s *Section) Worst() Severity { return worst(s.Findings) }

// Add appends findings to the section.
func (s *Section) Add(f ...Finding) { s.Findings = append(s.Findings, f...) }

// Query is one DNS query as recorded by the resolver, for --trace.
type Query struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Server   string   `json:"server"`
	Rcode    string   `json:"rcode"`
	Answers  int      `json:"answers"`
	Duration Duration `json:"duration_ms"`
	Error    string   `json:"error,omitempty"`
	Cached   bool     `json:"cached,omitempty"`
	TCP      bool     `json:"tcp,omitempty"`
}

// Report is the whole result of one mxray command.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Version       string    `json:"version"`
	Command       string    `json:"command"`
	Target        string    `json:"target"`
	StartedAt     time.Time `json:"started_at"`
	Duration      Duration  `json:"duration_ms"`
	Summary       Counts    `json:"summary"`
	Sections      []Section `json:"sections"`
	// Requirements is the provider table of `mxray preflight`: when it is
	// there, the exit code follows it (see requirementExit).
	Requirements []Requirement `json:"requirements,omitempty"`
	Trace        []Query       `json:"trace,omitempty"`
}

// Duration is a time span that encodes as fractional milliseconds (to the
// microsecond) in JSON. Every JSON field of this type ends in "_ms", so a
// reader never has to guess the unit (schema version 2).
type Duration time.Duration

// Std is the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(d).Microseconds()) / 1000)
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// Counts is the number of findings per severity.
type Counts struct {
	OK      int `json:"ok"`
	Info    int `json:"info"`
	Warning int `json:"warning"`
	Failure int `json:"failure"`
	Unknown int `json:"unknown"`
}

// New starts a report for a command and target.
func New(command, target, version string, started time.Time) *Report {
	return &Report{SchemaVersion: SchemaVersion, Tool: "mxray", Version: version,
		Command: command, Target: target, StartedAt: started}
}

// Section returns the section with the id, creating it (with the title) if needed.
func (r *Report) Section(id, title string) *Section {
	for i := range r.Sections {
		if r.Sections[i].ID == id {
			return &r.Sections[i]
		}
	}
	r.Sections = append(r.Sections, Section{ID: id, Title: title})
	return &r.Sections[len(r.Sections)-1]
}

// Finish fills the summary counts, the duration and the sections'
// measurements.
func (r *Report) Finish(now time.Time) {
	r.Duration = Duration(now.Sub(r.StartedAt))
	r.Summary = Counts{}
	for i := range r.Sections {
		s := &r.Sections[i]
		s.measure()
		for _, f := range s.Findings {
			switch f.Severity {
			case OK:
				r.Summary.OK++
			case Info:
				r.Summary.Info++
			case Warning:
				r.Summary.Warning++
			case Failure:
				r.Summary.Failure++
			case Unknown:
				r.Summary.Unknown++
			}
		}
	}
}

// Findings returns every finding of every section, in order.
func (r *Report) Findings() []Finding {
	var all []Finding
	for _, s := range r.Sections {
		all = append(all, s.Findings...)
	}
	return all
}

// Find returns the findings with the given id (any section).
func (r *Report) Find(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings() {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// Exit codes, documented in the README and in --help. They follow the
// Nagios plugin convention so that cron and monitors can use them directly.
const (
	ExitOK      = 0  // every finding ok or info
	ExitWarning = 1  // at least one warning, no failure and nothing unknown
	ExitFailure = 2  // at least one failure
	ExitUnknown = 3  // something could not be checked (and nothing failed)
	ExitUsage   = 64 // bad command line or input (sysexits EX_USAGE)
)

// ExitCode derives the process exit code from the findings: a failure
// outranks an unknown, which outranks a warning.
func (r *Report) ExitCode() int {
	if len(r.Requirements) > 0 {
		return r.requirementExit()
	}
	switch worst(r.Findings()) {
	case Failure:
		return ExitFailure
	case Unknown:
		return ExitUnknown
	case Warning:
		return ExitWarning
	}
	return ExitOK
}

// rank orders severities for "worst": failure > unknown > warning > info > ok.
func rank(s Severity) int {
	switch s {
	case Failure:
		return 4
	case Unknown:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

func worst(fs []Finding) Severity {
	w := OK
	for _, f := range fs {
		if rank(f.Severity) > rank(w) {
			w = f.Severity
		}
	}
	return w
}

// Worst returns the most severe of the given severities (failure > unknown > warning > info > ok).
func Worst(sev ...Severity) Severity {
	w := OK
	for _, s := range sev {
		if rank(s) > rank(w) {
			w = s
		}
	}
	return w
}

// Evidencef formats one evidence line.
func Evidencef(format string, a ...any) string {
	return strings.TrimRight(fmt.Sprintf(format, a...), "\n")
}
