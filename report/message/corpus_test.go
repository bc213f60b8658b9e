package message

// The bounce corpus test: every dev message of the labelled sample in
// testdata/bounces (a copy of ../shared/reference/bounces, sisimai
// set-of-emails, BSD-2-Clause, see testdata/bounces/LICENSE) is explained,
// and each recipient's reason is compared with the label (per row: file,
// recipient_index).
//
// Labels we believe are wrong are listed in testdata/bounces/disputed.csv
// with the reason; they are still counted against us in the headline
// figure (the catalog is not bent to them), and reported separately.

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mxray/mxray/report/catalog"
)

// corpusTarget is the agreement issue 7 asks for on the dev messages;
// corpusFloor is what the test enforces. The target is met (296/328 when
// the catalog landed), so the floor is the target: a regression fails.
const (
	corpusTarget = 0.90
	corpusFloor  = corpusTarget
)

type corpusRow struct {
	file   string
	index  int
	reason string
	status string
	code   string
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func loadCorpus(t testing.TB) []corpusRow {
	recs := readCSV(t, "testdata/bounces/expected.csv")
	var rows []corpusRow
	for _, r := range recs[1:] {
		if len(r) < 6 || r[1] != "dev" {
			continue
		}
		i, err := strconv.Atoi(r[2])
		if err != nil {
			t.Fatalf("expected.csv: bad recipient_index %q", r[2])
		}
		rows = append(rows, corpusRow{file: r[0], index: i, reason: r[3], status: r[4], code: r[5]})
	}
	return rows
}

var (
	corpusMu    sync.Mutex
	corpusCache = map[string]*Explained{}
)

// explainCorpusFile explains one message of the corpus (once per test
// binary: the corpus tests share the results).
func explainCorpusFile(t testing.TB, file string) *Explained {
	corpusMu.Lock()
	defer corpusMu.Unlock()
	if ex, ok := corpusCache[file]; ok {
		return ex
	}
	raw, err := os.ReadFile(filepath.Join("testdata/bounces/maildir", file))
	if err != nil {
		t.Fatal(err)
	}
	ex := ExplainInput(raw, ExplainOptions{})
	corpusCache[file] = ex
	return ex
}

func TestBounceCorpus(t *testing.T) {
	rows := loadCorpus(t)
	if len(rows) == 0 {
		t.Fatal("no dev rows in expected.csv")
	}
	taxonomy := map[string]bool{}
	for _, r := range readCSV(t, "testdata/bounces/reasons.csv")[1:] {
		taxonomy[r[0]] = true
	}
	disputed := map[string]string{}
	if _, err := os.Stat("testdata/bounces/disputed.csv"); err == nil {
		for _, r := range readCSV(t, "testdata/bounces/disputed.csv")[1:] {
			disputed[r[0]+"#"+r[1]] = r[3]
		}
	}
	cache := map[string]*Explained{}
	agree, agreeDisputed, nDisputed := 0, 0, 0
	confusion := map[[2]string]int{}
	var misses []string
	for _, row := range rows {
		ex, ok := cache[row.file]
		if !ok {
			ex = explainCorpusFile(t, row.file)
			cache[row.file] = ex
		}
		got := "(none)"
		var reply ExplainedReply
		if row.index-1 < len(ex.Replies) {
			reply = ex.Replies[row.index-1]
			got = reply.Reason
			if !taxonomy[got] {
				t.Errorf("%s#%d: reason %q is not in the taxonomy", row.file, row.index, got)
			}
		}
		key := row.file + "#" + strconv.Itoa(row.index)
		_, isDisputed := disputed[key]
		if isDisputed {
			nDisputed++
		}
		if got == row.reason {
			agree++
			if isDisputed {
				agreeDisputed++
			}
			continue
		}
		confusion[[2]string{row.reason, got}]++
		misses = append(misses, fmt.Sprintf("%s#%d want %s got %s [%s %d %s entry=%s] %.120q",
			row.file, row.index, row.reason, got, reply.Stage, reply.Code, reply.EnhancedCode, reply.Entry, reply.Reply))
	}
	pct := 100 * float64(agree) / float64(len(rows))
	fmt.Printf("bounces: reason agreement %d/%d (%.1f%%)\n", agree, len(rows), pct)
	rareAgree, rareN := rareFamilyAgreement(rows, func(r corpusRow) bool {
		ex := cache[r.file]
		return r.index-1 < len(ex.Replies) && ex.Replies[r.index-1].Reason == r.reason
	})
	fmt.Printf("bounces: rare families (at most %d dev messages each): reason agreement %d/%d (%.1f%%)\n",
		rareFamilyMax, rareAgree, rareN, 100*float64(rareAgree)/float64(max(1, rareN)))
	if nDisputed > 0 {
		fmt.Printf("bounces: %d disputed labels (testdata/bounces/disputed.csv), %d of them agreed anyway; excluding them: %d/%d (%.1f%%)\n",
			nDisputed, agreeDisputed, agree-agreeDisputed, len(rows)-nDisputed,
			100*float64(agree-agreeDisputed)/float64(max(1, len(rows)-nDisputed)))
	}
	type cell struct {
		want, got string
		n         int
	}
	var cells []cell
	for k, n := range confusion {
		cells = append(cells, cell{k[0], k[1], n})
	}
	sort.Slice(cells, func(i, j int) bool {
		if cells[i].n != cells[j].n {
			return cells[i].n > cells[j].n
		}
		return cells[i].want+cells[i].got < cells[j].want+cells[j].got
	})
	if len(cells) > 0 {
		fmt.Printf("bounces: disagreements (expected -> got: count)\n")
		for _, c := range cells {
			fmt.Printf("  %-16s -> %-16s %d\n", c.want, c.got, c.n)
		}
	}
	if testing.Verbose() || os.Getenv("MXRAY_CORPUS_MISSES") != "" {
		fmt.Println(strings.Join(misses, "\n"))
	}
	rate := float64(agree) / float64(len(rows))
	if rate >= corpusTarget {
		fmt.Printf("bounces: the %.0f%% target is met\n", corpusTarget*100)
	} else {
		fmt.Printf("bounces: the %.0f%% target is NOT met (enforced floor %.0f%%)\n", corpusTarget*100, corpusFloor*100)
	}
	if !catalogComplete() {
		// The reply catalog is being written (issue 7 part A): report the
		// figure, enforce it once the fallbacks are in.
		fmt.Printf("bounces: catalog incomplete (no fallback files yet); agreement not enforced\n")
		return
	}
	if rate < corpusFloor {
		t.Errorf("bounces: reason agreement %.1f%% is below the enforced floor %.0f%% (target %.0f%%)", pct, corpusFloor*100, corpusTarget*100)
	}
}

// rareFamilyMax: a family (the file name up to its last "-": lhost-postfix,
// rhost-google, arf) with at most this many dev messages is rare. Their
// messages are the nearest thing in the repository to mail nobody has
// seen: a rule written for a family's samples shows in the figure of
// all messages, not in this one. A figure of all messages far above the
// rare families' says the catalog memorizes.
const rareFamilyMax = 2

// family is the file name up to its last "-".
func family(file string) string {
	if i := strings.LastIndexByte(file, '-'); i > 0 {
		return file[:i]
	}
	return file
}

// rareFamilyAgreement counts the rows of rare families and those agreed.
func rareFamilyAgreement(rows []corpusRow, agreed func(corpusRow) bool) (agree, n int) {
	msgs := map[string]map[string]bool{}
	for _, r := range rows {
		f := family(r.file)
		if msgs[f] == nil {
			msgs[f] = map[string]bool{}
		}
		msgs[f][r.file] = true
	}
	for _, r := range rows {
		if len(msgs[family(r.file)]) > rareFamilyMax {
			continue
		}
		n++
		if agreed(r) {
			agree++
		}
	}
	return agree, n
}

// catalogComplete: the catalog has its last-resort fallbacks (90-class.json).
func catalogComplete() bool {
	c, err := catalog.Default()
	if err != nil {
		return false
	}
	for _, e := range c.Entries {
		if strings.HasPrefix(e.File, "90-") {
			return true
		}
	}
	return false
}

// TestBounceCorpusRecipients: every message yields at least as many
// explained replies as it has labelled recipients, and the recipients of
// multi-recipient bounces are told apart.
func TestBounceCorpusRecipients(t *testing.T) {
	want := map[string]int{}
	for _, r := range loadCorpus(t) {
		want[r.file] = max(want[r.file], r.index)
	}
	short := 0
	for file, n := range want {
		ex := explainCorpusFile(t, file)
		if len(ex.Replies) < n {
			short++
			t.Logf("%s: %d replies, %d labelled recipients", file, len(ex.Replies), n)
		}
	}
	if short > 0 {
		t.Errorf("%d messages yield fewer replies than labelled recipients", short)
	}
}

// TestBounceCorpusCodes measures the parser alone, independent of the
// catalog: the basic reply code and the enhanced status code found for each
// recipient against the labels' reply_code and status columns. (Statuses
// X.0.9xx are the labeller's own pseudo codes, not in the message, and are
// not compared.)
func TestBounceCorpusCodes(t *testing.T) {
	rows := loadCorpus(t)
	cache := map[string]*Explained{}
	codeN, codeOK, enhN, enhOK := 0, 0, 0, 0
	var misses []string
	for _, row := range rows {
		ex, ok := cache[row.file]
		if !ok {
			ex = explainCorpusFile(t, row.file)
			cache[row.file] = ex
		}
		var r ExplainedReply
		if row.index-1 < len(ex.Replies) {
			r = ex.Replies[row.index-1]
		}
		if row.code != "" {
			codeN++
			if strconv.Itoa(r.Code) == row.code {
				codeOK++
			} else {
				misses = append(misses, fmt.Sprintf("%s#%d code want %s got %d %.100q", row.file, row.index, row.code, r.Code, r.Reply))
			}
		}
		if row.status != "" && !strings.Contains(row.status, ".0.9") && !strings.HasSuffix(row.status, ".0.0") {
			enhN++
			if r.EnhancedCode == row.status {
				enhOK++
			} else {
				misses = append(misses, fmt.Sprintf("%s#%d enhanced want %s got %s %.100q", row.file, row.index, row.status, r.EnhancedCode, r.Reply))
			}
		}
	}
	fmt.Printf("bounces: reply code agreement %d/%d, enhanced code agreement %d/%d\n", codeOK, codeN, enhOK, enhN)
	if os.Getenv("MXRAY_CORPUS_MISSES") != "" {
		fmt.Println(strings.Join(misses, "\n"))
	}
	if codeOK*10 < codeN*9 || enhOK*10 < enhN*9 {
		t.Errorf("reply/enhanced code agreement below 90%%")
	}
}

// BenchmarkExplainCorpus explains every dev message once per iteration.
// The catalog and the expressions compiled on first use are loaded before
// the clock starts: a one-time cost of the process (a few tens of ms), not
// of a message.
func BenchmarkExplainCorpus(b *testing.B) {
	files, _ := filepath.Glob("testdata/bounces/maildir/*.eml")
	var raws [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
	}
	for _, raw := range raws {
		ExplainInput(raw, ExplainOptions{}) // compile everything compiled on first use
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, raw := range raws {
			ExplainInput(raw, ExplainOptions{})
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(raws)), "µs/message")
}
