package catalog

// Seed coverage: every reply the seed documents quote (as listed, with line
// numbers, in the digests shared/reference/seed-digest/*.md, copied to
// testdata/seeds/) gets the cause the seeds give it. testdata/seeds/replies.tsv
// is the extracted table; the test also checks that the table covers every
// reply row of the digests and that each row's line reference is right.

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type seedReply struct {
	digest    string
	line      int
	seedLines string
	stage     Stage
	code      int
	enhanced  string
	text      string
	reason    string
	cause     string
}

func loadSeedReplies(t *testing.T) []seedReply {
	t.Helper()
	f, err := os.Open("testdata/seeds/replies.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []seedReply
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 9 {
			t.Fatalf("replies.tsv:%d: %d fields", n, len(c))
		}
		dash := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		line, err1 := strconv.Atoi(c[1])
		code, err2 := strconv.Atoi(c[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("replies.tsv:%d: bad number", n)
		}
		stage := Stage(dash(c[3]))
		if stage == "" {
			stage = StageUnknown
		}
		out = append(out, seedReply{c[0], line, c[2], stage, code, dash(c[5]), dash(c[6]), c[7], c[8]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

func TestSeedRepliesExplained(t *testing.T) {
	rows := loadSeedReplies(t)
	if len(rows) < 150 {
		t.Fatalf("only %d seed replies", len(rows))
	}
	for _, r := range rows {
		name := r.digest + ":" + strconv.Itoa(r.line) + " " + strconv.Itoa(r.code) + " " + r.text
		t.Run(name, func(t *testing.T) {
			ex := Explain(r.stage, r.code, r.enhanced, r.text)
			if ex.Reason != r.reason || ex.Cause != r.cause {
				t.Errorf("got reason %s cause %s (entry %s), seeds (%s) say %s / %s", ex.Reason, ex.Cause, ex.Entry, r.seedLines, r.reason, r.cause)
			}
			if r.code >= 500 && !ex.Permanent || r.code >= 200 && r.code < 500 && ex.Permanent {
				t.Errorf("Permanent = %v for %d", ex.Permanent, r.code)
			}
			if ex.Summary == "" || ex.Fix == "" {
				t.Errorf("empty summary or fix")
			}
		})
	}
}

// TestSeedTableMatchesDigests: each row points at a digest line that really
// quotes that reply, and every reply row of the digests' reply catalogs is in
// the table (or listed below as not a server reply).
func TestSeedTableMatchesDigests(t *testing.T) {
	rows := loadSeedReplies(t)
	digests := map[string][]string{}
	covered := map[string]bool{}
	for _, r := range rows {
		lines, ok := digests[r.digest]
		if !ok {
			lines = readLines(t, filepath.Join("testdata/seeds", r.digest))
			digests[r.digest] = lines
		}
		if r.line < 1 || r.line > len(lines) {
			t.Errorf("%s:%d: no such line", r.digest, r.line)
			continue
		}
		l := strings.ToLower(lines[r.line-1])
		switch {
		case r.code != 0 && !strings.Contains(l, strconv.Itoa(r.code)):
			t.Errorf("%s:%d does not mention code %d: %.80s", r.digest, r.line, r.code, l)
		case r.code == 0:
			frag := []rune(strings.ToLower(r.text))
			if len(frag) > 15 {
				frag = frag[:15]
			}
			if !strings.Contains(l, string(frag)) {
				t.Errorf("%s:%d does not quote %q", r.digest, r.line, string(frag))
			}
		}
		covered[r.digest+":"+strconv.Itoa(r.line)] = true
	}
	// Digest rows that are not replies a server sends.
	notReplies := map[string]string{
		"seed_002.md:65": "Windows telnet client message, not SMTP",
		"seed_003.md:87": "G8: 'Error 554 in Outlook', no reply text (client settings FAQ)",
		"seed_003.md:88": "G9: 'Error 554' at Yahoo with no text (wrong PC clock FAQ)",
	}
	rowRE := regexp.MustCompile(`^\| (?:\d{1,3}|[A-H]\d{1,2}) \|`)
	for _, d := range []string{"seeds_000_001_004.md", "seed_002.md", "seed_003.md"} {
		lines := readLines(t, filepath.Join("testdata/seeds", d))
		inCatalog := false
		for i, l := range lines {
			if strings.HasPrefix(l, "## ") {
				inCatalog = strings.HasPrefix(l, "## 1.")
			}
			if !inCatalog || !rowRE.MatchString(l) {
				continue
			}
			key := d + ":" + strconv.Itoa(i+1)
			if !covered[key] && notReplies[key] == "" {
				t.Errorf("%s is a reply row of the digest but not in replies.tsv: %.100s", key, l)
			}
		}
	}
}
