package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/serve"
)

const parityZone = `
example.test.     IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
mx.example.test.  IN A 127.0.0.1
1.0.0.127.in-addr.arpa. IN PTR mx.example.test.
2.0.0.127.bl.example.net. A 127.0.0.2
5.0.0.81.bl.example.net.  A 127.0.0.2
5.0.0.81.bl.example.net.  TXT "listed for the test"
2.0.0.127.zen.spamhaus.org. A 127.0.0.2
5.0.0.81.zen.spamhaus.org.  A 127.0.0.11
`

// parityLog is a few lines of a Postfix log: a client refused for a
// listing that still holds (the follow-up asks the list), the noise
// around it, and a bounce from a remote server.
const parityLog = `Nov 26 10:00:00 mx postfix/smtpd[123]: connect from relay5.isp.test[81.0.0.5]
Nov 26 10:00:01 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from relay5.isp.test[81.0.0.5]: 554 5.7.1 Service unavailable; Client host [81.0.0.5] blocked using zen.spamhaus.org; from=<a@isp.test> to=<b@example.test> proto=ESMTP helo=<relay5.isp.test>
Nov 26 10:00:01 mx postfix/smtpd[123]: disconnect from relay5.isp.test[81.0.0.5] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
Nov 26 10:05:00 mx postfix/qmgr[456]: 4F3A21C0123: from=<news@example.test>, size=2048, nrcpt=1 (queue active)
Nov 26 10:05:01 mx postfix/smtp[457]: 4F3A21C0123: to=<u@example.net>, relay=mx.example.net[192.0.2.3]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.3] said: 550 5.1.1 <u@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))
`

// TestServeMatchesCLI: the JSON API of mxray serve gives the document of
// `mxray smtp`, `mxray blocklist` and `mxray explain --format json` for
// the same input (times, the random catch-all address and the name of
// the input aside): serve assembles them from the same functions, and
// this keeps the two in step.
func TestServeMatchesCLI(t *testing.T) {
	dnsSrv := dnstest.Start(t, parityZone)
	mx := smtptest.Start(t, smtptest.Options{Domain: "mx.example.test", LocalDomains: []string{"example.test"}})
	lists := filepath.Join(t.TempDir(), "lists")
	if err := os.WriteFile(lists, []byte("bl.example.net:ipv4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Options{AllowPrivate: true, RatePerMinute: -1, Version: version, World: &serve.World{
		Resolvers: []string{dnsSrv.Addr},
		Check: check.Config{SMTP: check.SMTPOptions{HELO: "probe.mxray.test"},
			DNSBL: check.DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.example.net:ipv4"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	_, port, _ := strings.Cut(mx.Addr, ":")
	reply := "550 5.7.1 Service unavailable; Client host [81.0.0.5] blocked using bl.example.net"
	for _, tc := range []struct {
		name  string
		cli   []string
		stdin string
		api   func() (*http.Response, error)
		// events and findings the API's document must hold, so that two
		// equally empty documents do not pass.
		events   int
		findings []string
	}{
		{"smtp", []string{"smtp", "mx.example.test:" + port, "--helo", "probe.mxray.test"}, "",
			func() (*http.Response, error) { return http.Get(hs.URL + "/api/v1/smtp?host=mx.example.test:" + port) },
			0, []string{"smtp.banner-ptr-match", "smtp.relay-denied"}},
		{"blocklist", []string{"blocklist", "81.0.0.5", "81.0.0.6", "--lists", lists}, "",
			func() (*http.Response, error) { return http.Get(hs.URL + "/api/v1/blocklist?target=81.0.0.5,81.0.0.6") },
			0, []string{"dnsbl.listed"}},
		{"explain", []string{"explain", reply}, "",
			func() (*http.Response, error) {
				return http.Post(hs.URL+"/api/v1/explain", "text/plain", strings.NewReader(reply))
			}, 0, []string{"explain.blocked", "explain.reproduce"}},
		{"explain offline", []string{"explain", "--offline", "550 5.7.1 Client host rejected: cannot find your reverse hostname, [81.0.0.5]"}, "",
			func() (*http.Response, error) {
				return http.Post(hs.URL+"/api/v1/explain?offline=1", "text/plain", strings.NewReader("550 5.7.1 Client host rejected: cannot find your reverse hostname, [81.0.0.5]"))
			}, 0, []string{"explain.requireptr", "explain.reproduce"}},
		{"explain log excerpt", []string{"explain", "-"}, parityLog,
			func() (*http.Response, error) {
				form := url.Values{"text": {parityLog}}
				return http.Post(hs.URL+"/api/v1/explain", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			}, 2, []string{"explain.blocked", "explain.dnsbl-still-listed", "explain.userunknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLIIn(t, tc.stdin, append(tc.cli, "--resolver", dnsSrv.Addr, "--format", "json")...)
			if code == report.ExitUsage {
				t.Fatalf("CLI: %s", stderr)
			}
			resp, err := tc.api()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("API: %d %s", resp.StatusCode, body)
			}
			cli, api := comparable(t, out), comparable(t, string(body))
			if !reflect.DeepEqual(cli, api) {
				c, _ := json.MarshalIndent(cli, "", " ")
				a, _ := json.MarshalIndent(api, "", " ")
				t.Errorf("the API's document differs from the CLI's:\nCLI: %s\nAPI: %s", c, a)
			}
			if got := resp.Header.Get("X-Mxray-Exit-Code"); got != itoa(code) {
				t.Errorf("exit code: CLI %d, API header %q", code, got)
			}
			holds(t, body, tc.events, tc.findings)
		})
	}
	smtptest.AssertNoMessage(t, mx.Rec)
}

// holds checks that a document lists events events and the findings.
func holds(t *testing.T, doc []byte, events int, findings []string) {
	t.Helper()
	var d struct {
		Events []json.RawMessage `json:"events"`
		report.Report
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Events) != events {
		t.Errorf("%d events, want %d", len(d.Events), events)
	}
	for _, id := range findings {
		if len(d.Find(id)) == 0 {
			t.Errorf("no finding %s in %v", id, d.Findings())
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

var randomLocal = regexp.MustCompile(`\b[0-9a-f]{12}@`)

// comparable is a document without what differs between two runs: times,
// durations, the random catch-all local part, and the input's name.
func comparable(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(randomLocal.ReplaceAllString(doc, "<random>@")), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k := range x {
				switch {
				case k == "target" || k == "source" || k == "started_at" || k == "received_at" || k == "sent_at" ||
					k == "timings" || strings.HasPrefix(k, "duration") || k == "local_addr":
					delete(x, k)
				default:
					x[k] = walk(x[k])
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	return walk(v)
}

// TestServeUsage: bad flags are usage errors.
func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "--allow-target", "not a pattern"},
		{"serve", "--trusted-proxy", "proxy.example"},
		{"serve", "--trusted-origin", "not a url"},
		{"serve", "--rate", "0"},
		{"serve", "--resolver", "dns.google"},
		{"serve", "--helo", "two words"},
		{"serve", "--list", "bad zone!"},
		{"demo", "nosuch.example"},
		{"demo", "--format", "json"},
		{"demo", "--format", "nagios"},      // two plugin outputs are no plugin output
		{"demo", "--resolver", "127.0.0.1"}, // the demo world has its own DNS server
		{"demo", "healthy.example", "--resolver", "127.0.0.1:53"},
	} {
		want := report.ExitUsage
		if nagiosRequested(args) {
			want = report.ExitUnknown // a plugin's usage error is UNKNOWN (TestNagiosUsageErrors)
		}
		if code, _, stderr := runCLI(t, args...); code != want {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, want, stderr)
		}
	}
}

// TestDemoCommand: mxray demo checks the embedded world with no network:
// the healthy domain passes, the broken one fails.
func TestDemoCommand(t *testing.T) {
	code, out, stderr := runCLI(t, "demo", "broken.example", "--format", "json")
	if code != report.ExitFailure {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Target != "broken.example" || len(rep.Find("smtp.open-relay")) == 0 {
		t.Fatalf("broken.example: %v %v", err, rep.Findings())
	}
	code, out, _ = runCLI(t, "demo", "healthy.example", "--color", "never")
	if code != report.ExitOK || !strings.Contains(out, "mxray check healthy.example") || !strings.Contains(out, "0 failure") {
		t.Errorf("healthy.example: exit %d\n%s", code, out)
	}
}

// TestServeCommand: mxray serve answers on its --listen address — the
// page, the demo under /demo/ — and stops when the context ends (SIGTERM).
func TestServeCommand(t *testing.T) {
	dnsSrv := dnstest.Start(t, parityZone)
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: pw, Env: func(string) string { return "" }},
			[]string{"serve", "--listen", "127.0.0.1:0", "--resolver", dnsSrv.Addr})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var base string
	for base == "" && lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "answering on "); ok {
			base = strings.Fields(after)[0]
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("no address announced")
	}
	for _, path := range []string{"", "demo/", "demo/check/healthy.example"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "mxray") {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(base + "api/v1/check?domain=" + url.QueryEscape("printer.local"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a special-use name was not refused: %d", resp.StatusCode)
	}
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestDemoPrometheus: both demo domains in one exposition, which the
// Prometheus parser reads (two expositions in one body do not parse: a
// second HELP line for a family); one domain in nagios format is one
// plugin output.
func TestDemoPrometheus(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.prom")
	code, stdout, stderr := runCLI(t, "demo", "--format", "prometheus", "--output", out)
	if code != report.ExitFailure || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not one valid exposition: %v\n%s", err, data)
	}
	if f := fams["mxray_check_success"]; f == nil || len(f.Metric) != 2 {
		t.Fatalf("mxray_check_success for both domains: %v", f)
	}
	code, stdout, _ = runCLI(t, "demo", "broken.example", "--format", "nagios")
	if code != 2 || !strings.HasPrefix(stdout, "MXRAY CHECK CRITICAL") || len(regexp.MustCompile(`(?m)^MXRAY `).FindAllString(stdout, -1)) != 1 {
		t.Errorf("nagios, one domain: exit %d\n%s", code, stdout)
	}
}
