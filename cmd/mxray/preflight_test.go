package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
	"github.com/mxray/mxray/report"
)

// preflightWorld serves the preflight test world with a DKIM key made here,
// and writes a message signed with it and a recipients list.
type preflightWorld struct {
	srv                  *dnstest.Server
	message, list, lists string
}

func newPreflightWorld(t *testing.T, signed []string) *preflightWorld {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w := &preflightWorld{srv: dnstest.Start(t, testworld.ReadZone(t, "../../testdata/zones/preflight.zone"))}
	if err := w.srv.AddRR(testworld.DKIMKeyRecord(t, "s1._domainkey.example.com.", &key.PublicKey)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w.message, w.list, w.lists = filepath.Join(dir, "campaign.eml"), filepath.Join(dir, "list.csv"), filepath.Join(dir, "blocklists.txt")
	writeFile(t, w.lists, []byte("bl.example.org\ndbl.example.org:domain\nzen.spamhaus.org\n"))
	msg, err := os.ReadFile("../../testdata/messages/campaign.eml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w.message, testworld.DKIMSign(t, string(msg), "example.com", "s1", key, signed))
	writeFile(t, w.list, []byte("email,name\nalice@gmail.com,Alice\nbob@yahoo.com,Bob\ncarol@outlook.com,Carol\nalice@gmail.com,Alice again\ninfo@example.com,\ndave@gmial.com,Dave\n"))
	return w
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (w *preflightWorld) args(extra ...string) []string {
	return append([]string{"preflight", "--resolver", w.srv.Addr, "--from", "news@example.com",
		"--ip", "81.2.69.7", "--ip", "2a00:1450:4001:82a::7", "--helo", "out1.example.com",
		"--lists", w.lists}, extra...)
}

var allSigned = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

func TestPreflightCLI(t *testing.T) {
	w := newPreflightWorld(t, allSigned)
	code, out, stderr := runCLI(t, w.args("--message", w.message, "--recipients", w.list)...)
	t.Logf("mxray preflight output:\n%s", out)
	// The list has a duplicate, a role mailbox and a typo: warnings in the
	// evidence, while every provider row passes.
	if code != report.ExitWarning || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"requirement              Gmail        Yahoo        Microsoft",
		"spf                      pass         pass         pass",
		"one-click-unsubscribe    pass         pass         (pass)",
		"spam-rate                manual       manual       (manual)",
		"recipients.duplicates", "recipients.roles", "gmial.com (1 recipients) → gmail.com?",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Index(out, "Provider rules") > strings.Index(out, "Sending IPs") {
		t.Error("the provider table must come first")
	}
}

func TestPreflightCLIJSONAndStdin(t *testing.T) {
	w := newPreflightWorld(t, []string{"From", "To", "Subject", "Date", "Message-ID"}) // One-Click fields not signed
	list, err := os.ReadFile(w.list)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), IO{Stdin: bytes.NewReader(list), Stdout: &out, Stderr: &errb, Env: func(string) string { return "" }},
		w.args("--message", w.message, "--recipients", "-", "--format", "json"))
	if code != report.ExitFailure {
		t.Fatalf("exit %d (%s)", code, errb.String())
	}
	var doc struct {
		Command      string `json:"command"`
		Requirements []struct {
			Provider, ID, Status, Summary string
			Reply                         *struct {
				Code      int
				Explained struct{ Entry string }
			}
		} `json:"requirements"`
		Sections []struct{ ID string } `json:"sections"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range doc.Requirements {
		if q.Provider == "gmail" && q.ID == "one-click-unsubscribe" {
			found = q.Status == "fail" && q.Reply == nil // Gmail documents no reply of its own for it
		}
		if q.Provider == "gmail" && q.ID == "dkim" && q.Status != "pass" {
			t.Errorf("dkim: %+v", q)
		}
	}
	if !found || doc.Command != "preflight" || len(doc.Sections) < 6 {
		t.Fatalf("json: %s", out.String())
	}
}

func TestPreflightCLIBadInput(t *testing.T) {
	w := newPreflightWorld(t, allSigned)
	dir := t.TempDir()
	latin1 := filepath.Join(dir, "latin1.eml")
	writeFile(t, latin1, []byte("From: J\xf6rg <j@example.com>\nSubject: x\n\nbody\n"))
	binary := filepath.Join(dir, "list.xlsx")
	writeFile(t, binary, []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"))
	base := []string{"preflight", "--resolver", w.srv.Addr}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ip", "81.2.69.7"}, "--from is required"},
		{[]string{"--from", "news at example.com", "--ip", "81.2.69.7"}, `"news at example.com" has no @`},
		{[]string{"--from", "news@exa mple.com", "--ip", "81.2.69.7"}, "exa mple.com"},
		{[]string{"--from", "news@example.com"}, "--ip is required"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.777"}, `--ip "81.2.69.777"`},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--mail-from", "bounce@"}, "--mail-from"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--mail-from", "<>"}, "needs --helo"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--helo", "out 1"}, `--helo "out 1"`},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--volume", "-5"}, "--volume -5"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--selector", "s 1"}, "--selector"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "extra"}, `unexpected argument "extra"`},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--message", filepath.Join(dir, "nope.eml")}, "no such file"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--message", latin1}, "not UTF-8 (invalid byte 0xf6"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--recipients", filepath.Join(dir, "nope.txt")}, "no such file"},
		{[]string{"--from", "news@example.com", "--ip", "81.2.69.7", "--recipients", binary}, "NUL byte"},
	} {
		code, _, stderr := runCLI(t, append(base, tc.args...)...)
		if code != report.ExitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want 64 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestPreflightCLIFailingRows is the README's example: no DMARC record, and
// a message whose signature does not cover the one-click fields, at 20,000
// messages a day.
func TestPreflightCLIFailingRows(t *testing.T) {
	w := newPreflightWorld(t, []string{"From", "To", "Subject", "Date", "Message-ID"})
	w.srv.RemoveName("_dmarc.example.com.")
	code, out, _ := runCLI(t, w.args("--message", w.message, "--recipients", w.list, "--volume", "20000")...)
	t.Logf("mxray preflight output:\n%s", out)
	if code != report.ExitFailure {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"dmarc                    FAIL         FAIL         FAIL",
		"one-click-unsubscribe    FAIL         pass         (FAIL)", // Yahoo accepts the message's mailto: URI
		"reply: 550 5.7.40 Your message was blocked because the sending domain doesn't have a DMARC record",
		"reply: 550 5.7.515 Access denied, sending domain [example.com] does not meet the required authentication level.",
		"explain: Outlook.com requires high-volume senders", "evidence: dmarc.missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}

// TestPreflightCLIUnchecked is the reviewer's run: no --message, no
// --selector. DKIM, one-click and the message's form were never looked
// at, so the exit code is 1 with a finding that says so, never 0.
func TestPreflightCLIUnchecked(t *testing.T) {
	w := newPreflightWorld(t, allSigned)
	code, out, _ := runCLI(t, "preflight", "--resolver", w.srv.Addr, "--lists", w.lists, "--no-smtp",
		"--from", "news@example.com", "--ip", "81.2.69.7")
	if code != report.ExitWarning {
		t.Fatalf("exit %d, want %d:\n%s", code, report.ExitWarning, out)
	}
	for _, want := range []string{"dkim                     manual       manual       manual",
		"3 requirements were not checked: give --message or --selector; --message", "(preflight.not-checked)"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// TestPreflightHelp: --help lists preflight's own exit codes.
func TestPreflightHelp(t *testing.T) {
	code, out, _ := runCLI(t, "preflight", "--help")
	if code != report.ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: mxray preflight --from ADDR", "Exit codes:", "2   a requirement that applies fails",
		"--selector was not given (finding preflight.not-checked)"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(out, "port 25 blocked") {
		t.Errorf("help lists the generic exit codes:\n%s", out)
	}
}
