package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

// TestIndexedJobManifest runs the arguments of deploy/indexed-job.yaml as
// its pods would — one run per completion index, JOB_COMPLETION_INDEX set,
// $(SHARD) expanded — against the test DNS world, then gathers the shard
// files as README "Running at scale" says: one file per index, every domain
// of the list in exactly one of them, and every pod exiting 0.
func TestIndexedJobManifest(t *testing.T) {
	args, completions := readJobManifest(t, "../../deploy/indexed-job.yaml")
	srv := dnstest.Start(t, bulkZone)
	dir := t.TempDir()
	list := filepath.Join(dir, "domains.txt")
	if err := os.WriteFile(list, []byte(bulkList), 0o644); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results")
	os.Mkdir(results, 0o755)
	for i := 0; i < completions; i++ {
		var podArgs []string
		for _, a := range args {
			a = strings.ReplaceAll(a, "/input/domains.txt", list)
			a = strings.ReplaceAll(a, "/results/", results+"/")
			a = strings.ReplaceAll(a, "$(SHARD)", fmt.Sprint(i))
			podArgs = append(podArgs, a)
		}
		podArgs = append(podArgs, "--resolver", srv.Addr)
		code, _, stderr := runCLIWith(t, "", map[string]string{"JOB_COMPLETION_INDEX": fmt.Sprint(i)}, podArgs...)
		if code != report.ExitOK {
			t.Fatalf("pod %d: exit %d: %s", i, code, stderr)
		}
	}
	files, _ := filepath.Glob(filepath.Join(results, "shard-*.jsonl"))
	if len(files) != completions {
		t.Fatalf("%d shard files for %d completions", len(files), completions)
	}
	var targets []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var rep report.Report
			if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			targets = append(targets, rep.Target)
		}
		fh.Close()
	}
	sort.Strings(targets)
	if strings.Join(targets, ",") != "a.test,b.test,c.test,not a domain" {
		t.Errorf("gathered reports for %v", targets)
	}
}

// readJobManifest returns the container's args and the Job's completions;
// it checks that --shards says the same number. (A line scan of a file we
// write, not a YAML parser: the file keeps one arg a line.)
func readJobManifest(t *testing.T, path string) (args []string, completions int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inArgs := false
	shards := -1
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if c, ok := strings.CutPrefix(l, "completions:"); ok {
			fmt.Sscan(c, &completions)
		}
		switch {
		case l == "args:":
			inArgs = true
			continue
		case inArgs && strings.HasPrefix(l, "#"):
			continue
		case inArgs && strings.HasPrefix(l, "- "):
			a := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(l, "- "), " #", 2)[0])
			args = append(args, a)
			if n, ok := strings.CutPrefix(a, "--shards="); ok {
				fmt.Sscan(n, &shards)
			}
			continue
		}
		inArgs = false
	}
	if len(args) == 0 || completions < 1 {
		t.Fatalf("%s: no args or completions found", path)
	}
	if shards != completions {
		t.Fatalf("%s: --shards=%d but completions: %d", path, shards, completions)
	}
	return args, completions
}
