package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func runCLIWith(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Env: func(k string) string { return env[k] }}, args)
	return code, out.String(), errb.String()
}

// bulkZone is three mail domains on one host with a forward-confirmed PTR.
const bulkZone = `
a.test.  IN SOA ns.a.test. hostmaster.a.test. 1 3600 600 86400 300
a.test.  IN MX 10 mx.hoster.test.
b.test.  IN MX 10 mx.hoster.test.
c.test.  IN MX 10 mx.hoster.test.
mx.hoster.test. IN A 81.2.69.160
160.69.2.81.in-addr.arpa. IN PTR mx.hoster.test.
`

const bulkList = "# customers\na.test\nB.test.,gold\nnot a domain\nc.test\n"

// TestCheckDomainsJSONLines: --domains - with --format json writes one
// report per line (JSON Lines), a bad line as a report of its own, nothing
// on stderr when it is not a terminal, and exits with the worst code.
func TestCheckDomainsJSONLines(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	code, out, stderr := runCLIWith(t, bulkList, nil, "check", "--domains", "-", "--only", "mx,rdns", "--resolver", srv.Addr, "--format", "json")
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	var targets []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rep report.Report
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, sc.Text())
		}
		targets = append(targets, rep.Target)
		switch rep.Target {
		case "not a domain":
			if len(rep.Find("input.bad-line")) != 1 {
				t.Errorf("bad line: %+v", rep.Findings())
			}
		default:
			if len(rep.Find("mx.target-ok")) != 1 || len(rep.Find("ptr.ok")) != 1 {
				t.Errorf("%s: %+v", rep.Target, rep.Findings())
			}
		}
	}
	sort.Strings(targets)
	if strings.Join(targets, ",") != "a.test,b.test,c.test,not a domain" {
		t.Fatalf("reports for %v", targets)
	}
	if code != report.ExitUnknown {
		t.Errorf("exit %d, want %d (a line could not be checked)", code, report.ExitUnknown)
	}
}

// TestCheckDomainsTable: text output is a summary table, one row a domain,
// and the totals.
func TestCheckDomainsTable(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	_, out, _ := runCLIWith(t, "a.test\nb.test\n", nil, "check", "--domains", "-", "--only", "mx,rdns", "--resolver", srv.Addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "STATUS") || !strings.HasPrefix(lines[3], "total: 2 domains") {
		t.Fatalf("table:\n%s", out)
	}
}

// TestCheckDomainsShards: every domain of the list is checked by exactly one
// of n workers, with --shard i/n or --shard auto (Kubernetes Indexed Job).
func TestCheckDomainsShards(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	for n := 1; n <= 4; n++ {
		var all []string
		for i := 0; i < n; i++ {
			args := []string{"check", "--domains", "-", "--only", "mx", "--resolver", srv.Addr, "--format", "json"}
			env := map[string]string{}
			if i%2 == 0 {
				args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
			} else {
				args = append(args, "--shard", "auto")
				env["JOB_COMPLETION_INDEX"], env["MXRAY_SHARDS"] = fmt.Sprint(i), fmt.Sprint(n)
			}
			_, out, stderr := runCLIWith(t, bulkList, env, args...)
			if stderr != "" {
				t.Fatalf("%v: %s", args, stderr)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				var rep report.Report
				if err := json.Unmarshal([]byte(l), &rep); err != nil {
					t.Fatal(err)
				}
				all = append(all, rep.Target)
			}
		}
		sort.Strings(all)
		if strings.Join(all, ",") != "a.test,b.test,c.test,not a domain" {
			t.Errorf("n=%d: %v", n, all)
		}
	}
}

// TestCheckDomainsOutputFile: --output writes the whole run to FILE, renamed
// into place at the end; nothing goes to stdout.
func TestCheckDomainsOutputFile(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	path := filepath.Join(t.TempDir(), "shard-0.jsonl")
	_, out, stderr := runCLIWith(t, "a.test\nc.test\n", nil, "check", "--domains", "-", "--only", "mx", "--resolver", srv.Addr, "--format", "json", "--output", path)
	if out != "" || stderr != "" {
		t.Fatalf("stdout %q stderr %q", out, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("%d lines in %s:\n%s", n, path, b)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestCheckDomainsUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"check", "--domains", "-", "a.test"}, nil},
		{[]string{"check", "a.test", "--concurrency", "4"}, nil},
		{[]string{"check", "a.test", "--shard", "0/2"}, nil},
		{[]string{"check", "--domains", "-", "--shard", "2/2"}, nil},
		{[]string{"check", "--domains", "-", "--shard", "auto"}, nil},
		{[]string{"check", "--domains", "-", "--shard", "auto"}, map[string]string{"JOB_COMPLETION_INDEX": "0"}},
		{[]string{"check", "--domains", "-", "--concurrency", "0"}, nil},
		{[]string{"check", "--domains", "/nonexistent/list.txt", "--resolver", "127.0.0.1"}, nil},
		{[]string{"check", "--domains", "-", "--format", "nagios"}, nil},
		{[]string{"check", "--domains", "-", "--state", "/tmp/mxray-state.json"}, nil},
	} {
		code, _, stderr := runCLIWith(t, "", tt.env, tt.args...)
		want := report.ExitUsage
		if nagiosRequested(tt.args) {
			want = report.ExitUnknown // a plugin's usage error
		}
		if code != want || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want a one-line usage error", tt.args, code, stderr)
		}
	}
}

// TestCheckDomainsExitZero: for a batch engine, a run that checked every
// domain exits 0 with --exit-zero, whatever the domains' findings; the
// findings are in the output.
func TestCheckDomainsExitZero(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	args := []string{"check", "--domains", "-", "--only", "mx", "--resolver", srv.Addr, "--format", "json"}
	if code, _, _ := runCLIWith(t, bulkList, nil, args...); code == report.ExitOK {
		t.Fatal("the list has a bad line: the run's exit code must say so without --exit-zero")
	}
	code, out, _ := runCLIWith(t, bulkList, nil, append(args, "--exit-zero")...)
	if code != report.ExitOK || strings.Count(out, "\n") != 4 {
		t.Fatalf("exit %d with %d reports", code, strings.Count(out, "\n"))
	}
	// A run that could not write its output is not a success.
	code, _, _ = runCLIWith(t, bulkList, nil, append(args, "--exit-zero", "--output", "/nonexistent/dir/out.jsonl")...)
	if code == report.ExitOK {
		t.Fatal("an unwritable --output exited 0")
	}
}

// TestCheckDomainsPrometheus: --format prometheus with --domains is one
// exposition for every domain of the list, each metric family named once,
// parsed by Prometheus' own parser.
func TestCheckDomainsPrometheus(t *testing.T) {
	srv := dnstest.Start(t, bulkZone)
	path := filepath.Join(t.TempDir(), "domains.prom")
	code, out, stderr := runCLIWith(t, "a.test\nb.test\n", nil, "check", "--domains", "-", "--only", "mx,rdns", "--resolver", srv.Addr,
		"--format", "prometheus", "--output", path)
	if out != "" || stderr != "" {
		t.Fatalf("stdout %q, stderr %q", out, stderr)
	}
	if code != report.ExitOK {
		t.Errorf("exit %d", code)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a valid exposition: %v\n%s", err, data)
	}
	f, ok := fams["mxray_check_success"]
	if !ok || len(f.Metric) != 2 {
		t.Fatalf("mxray_check_success: %v", f)
	}
	var domains []string
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == "domain" {
				domains = append(domains, l.GetValue())
			}
		}
	}
	sort.Strings(domains)
	if strings.Join(domains, ",") != "a.test,b.test" {
		t.Errorf("domains %v", domains)
	}
	if n := strings.Count(string(data), "# TYPE mxray_check_success "); n != 1 {
		t.Errorf("%d TYPE lines for one family", n)
	}
}
