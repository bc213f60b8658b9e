package report

// The findings catalogue: report/findings.tsv lists every finding id with
// the severities it can take and its meaning; docs/findings.md is
// generated from it. The tests keep the three in step: the source scan
// (findingscan_test.go) against the catalogue, the golden report's
// findings against the catalogue's severity ranges, the document against
// the catalogue.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/findings.md from report/findings.tsv")

// findingDoc is one catalogue entry.
type findingDoc struct {
	id      string
	sevs    []Severity
	meaning string
	line    int
}

// pattern splits an id with a <placeholder> into its literal parts.
func (d findingDoc) pattern() (prefix, suffix string, ok bool) {
	i, j := strings.IndexByte(d.id, '<'), strings.IndexByte(d.id, '>')
	if i < 0 || j < i {
		return "", "", false
	}
	return d.id[:i], d.id[j+1:], true
}

func (d findingDoc) allows(s Severity) bool {
	for _, x := range d.sevs {
		if x == s {
			return true
		}
	}
	return false
}

func loadCatalogue(t *testing.T) []findingDoc {
	t.Helper()
	data, err := os.ReadFile("findings.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var docs []findingDoc
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[2] == "" {
			t.Fatalf("findings.tsv:%d: want id<TAB>severities<TAB>meaning, got %q", n, line)
		}
		d := findingDoc{id: f[0], meaning: f[2], line: n}
		if _, _, isPattern := d.pattern(); !isPattern && !findingIDPattern.MatchString(d.id) {
			t.Errorf("findings.tsv:%d: %q is not a finding id", n, d.id)
		}
		for _, name := range strings.Split(f[1], ",") {
			s, err := ParseSeverity(name)
			if err != nil {
				t.Fatalf("findings.tsv:%d: %v", n, err)
			}
			d.sevs = append(d.sevs, s)
		}
		if seen[d.id] {
			t.Errorf("findings.tsv:%d: %s listed twice", n, d.id)
		}
		seen[d.id] = true
		docs = append(docs, d)
	}
	return docs
}

// entriesFor are the catalogue entries a scanned id or pattern stands for.
func entriesFor(docs []findingDoc, x *scannedID) []findingDoc {
	var out []findingDoc
	for _, d := range docs {
		pre, suf, isPattern := d.pattern()
		switch {
		case !x.prefix && !x.suffix:
			if d.id == x.id {
				out = append(out, d)
			}
		case x.prefix:
			if strings.HasPrefix(d.id, x.id) || isPattern && pre == x.id {
				out = append(out, d)
			}
		case x.suffix:
			if isPattern && suf == x.id {
				out = append(out, d)
			}
		}
	}
	return out
}

// An id added to the code without its catalogue entry, a severity outside
// the documented range, and an entry the code no longer produces all fail.
func TestFindingCatalogueMatchesCode(t *testing.T) {
	docs := loadCatalogue(t)
	scan := scanFindingIDs(t, "..")
	for _, b := range scan.bad {
		t.Errorf("finding id that is not an id: %s", b)
	}
	used := map[string]bool{}
	for _, x := range scan.found {
		es := entriesFor(docs, x)
		if len(es) == 0 {
			t.Errorf("%s: finding id %q (pattern: prefix %v, suffix %v) is not in report/findings.tsv; add it with its severities and meaning, then go test ./report -run TestFindingsDoc -update",
				x.position, x.id, x.prefix, x.suffix)
			continue
		}
		for _, e := range es {
			used[e.id] = true
		}
		for s := range x.sevs {
			ok := false
			for _, e := range es {
				ok = ok || e.allows(s)
			}
			if !ok {
				t.Errorf("%s: %s is produced as %s, outside its documented severities", x.position, x.id, s)
			}
		}
	}
	for _, d := range docs {
		if !used[d.id] {
			t.Errorf("findings.tsv:%d: %s is documented but the code does not produce it", d.line, d.id)
		}
	}
}

// Every finding of the golden report is documented with its severity.
func TestGoldenFindingsAreDocumented(t *testing.T) {
	docs := loadCatalogue(t)
	data, err := os.ReadFile("../testdata/golden/check-example.com.json")
	if err != nil {
		t.Fatal(err)
	}
	// The golden dates are placeholders: read only the findings.
	var rep struct {
		Sections []struct {
			Findings []Finding `json:"findings"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	var all []Finding
	for _, s := range rep.Sections {
		all = append(all, s.Findings...)
	}
	if len(all) == 0 {
		t.Fatal("no findings in the golden report")
	}
	for _, f := range all {
		d, ok := docFor(docs, f.ID)
		if !ok || !d.allows(f.Severity) {
			t.Errorf("golden finding %s (%s) is not documented with that severity", f.ID, f.Severity)
		}
	}
}

// docFor finds the entry of an id as produced: its own, or the pattern it
// fits (the longest literal part wins: spf.mx-<result> over nothing).
func docFor(docs []findingDoc, id string) (findingDoc, bool) {
	var best findingDoc
	bestLen := -1
	for _, d := range docs {
		if d.id == id {
			return d, true
		}
		pre, suf, ok := d.pattern()
		if ok && strings.HasPrefix(id, pre) && strings.HasSuffix(id, suf) && len(pre)+len(suf) > bestLen {
			best, bestLen = d, len(pre)+len(suf)
		}
	}
	return best, bestLen >= 0
}

// docs/findings.md is generated from the catalogue.
func TestFindingsDoc(t *testing.T) {
	got := findingsMarkdown(loadCatalogue(t))
	const path = "../docs/findings.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("docs/findings.md is not generated from report/findings.tsv (%v); run go test ./report -run TestFindingsDoc -update", err)
	}
}

// findingsMarkdown renders the catalogue: one table per id prefix, in the
// order of the check's sections.
func findingsMarkdown(docs []findingDoc) string {
	var b strings.Builder
	b.WriteString("# Finding ids\n\n")
	b.WriteString("Generated from `report/findings.tsv` by `go test ./report -run TestFindingsDoc -update`; do not edit.\n")
	b.WriteString("A test fails when the code produces an id that is not listed here, or a severity outside its range.\n\n")
	b.WriteString("Severities: `ok` observed and correct, `info` worth knowing, `warning` worth changing (with the evidence that it\n")
	b.WriteString("matters), `failure` broken, `unknown` could not be observed. Monitoring may key on these ids\n")
	b.WriteString("(`mxray_finding{id=…}`, `--state --changes`, the JSON report).\n")
	groups := map[string][]findingDoc{}
	var order []string
	for _, d := range docs {
		g, _, _ := strings.Cut(d.id, ".")
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], d)
	}
	for _, g := range order {
		ds := groups[g]
		sort.SliceStable(ds, func(i, j int) bool { return ds[i].id < ds[j].id })
		fmt.Fprintf(&b, "\n## %s\n\n| id | severities | meaning |\n|---|---|---|\n", g)
		for _, d := range ds {
			var sevs []string
			for _, s := range d.sevs {
				sevs = append(sevs, s.String())
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.id, strings.Join(sevs, ", "), strings.ReplaceAll(d.meaning, "|", `\|`))
		}
	}
	return b.String()
}
