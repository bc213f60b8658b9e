package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func tableReport(reqs ...Requirement) *Report {
	r := New("preflight", "news@example.com", "test", time.Unix(0, 0))
	r.Requirements = reqs
	r.Section("spf", "SPF").Add(Finding{ID: "spf.result-pass", Severity: OK, Summary: "SPF pass"})
	r.Finish(time.Unix(1, 0))
	return r
}

func req(provider, id string, st RequirementStatus, applies bool) Requirement {
	return Requirement{Provider: provider, ProviderName: map[string]string{"gmail": "Gmail", "microsoft": "Microsoft (Outlook.com, Hotmail, Live)"}[provider],
		ID: id, Status: st, Applies: applies, Summary: id + " is " + string(st)}
}

func TestRequirementExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		reqs []Requirement
		warn bool
		want int
	}{
		{"all pass", []Requirement{req("gmail", "spf", ReqPass, true), req("gmail", "tls", ReqManual, true)}, false, ExitOK},
		{"an applicable failure", []Requirement{req("gmail", "spf", ReqFail, true), req("gmail", "ptr", ReqUnknown, true)}, false, ExitFailure},
		{"a failure that does not apply", []Requirement{req("microsoft", "ptr", ReqFail, false), req("gmail", "spf", ReqPass, true)}, false, ExitOK},
		{"unknown, none failed", []Requirement{req("gmail", "dmarc", ReqUnknown, true), req("gmail", "spf", ReqPass, true)}, false, ExitUnknown},
		{"all pass, a warning in the evidence", []Requirement{req("gmail", "spf", ReqPass, true)}, true, ExitWarning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tableReport(tc.reqs...)
			if tc.warn {
				r.Section("recipients", "Recipients").Add(Finding{ID: "recipients.roles", Severity: Warning})
			}
			if got := r.ExitCode(); got != tc.want {
				t.Fatalf("exit %d, want %d", got, tc.want)
			}
		})
	}
	// Without a table the findings decide, as before.
	r := tableReport()
	r.Section("x", "X").Add(Finding{ID: "x.unknown", Severity: Unknown})
	if r.ExitCode() != ExitUnknown {
		t.Fatal("a report without requirements must keep the findings' exit code")
	}
}

func TestRequirementTableRendering(t *testing.T) {
	fail := req("gmail", "dkim", ReqFail, true)
	fail.Reply = &Reply{Code: 550, Enhanced: "5.7.30", Text: "This message was blocked because it didn't pass DKIM authentication.",
		Explained: &ReplyExplanation{Entry: "gmail.dkim-fail", Reason: "authfailure", Summary: "Gmail refused: DKIM did not pass", Fix: "sign with DKIM"}}
	fail.Findings = []string{"dkim.signature-fail"}
	r := tableReport(req("gmail", "spf", ReqPass, true), req("microsoft", "spf", ReqPass, true),
		fail, req("microsoft", "dkim", ReqPass, false), req("gmail", "spam-rate", ReqManual, true))
	var buf bytes.Buffer
	if err := WriteText(&buf, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"requirement              Gmail        Microsoft",
		"spf                      pass         pass",
		"dkim                     FAIL         (pass)",
		"spam-rate                manual       —",
		"FAIL Gmail dkim: dkim is fail",
		"reply: 550 5.7.30 This message was blocked",
		"explain: Gmail refused: DKIM did not pass (gmail.dkim-fail, authfailure)",
		"evidence: dkim.signature-fail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Index(out, "Provider rules") > strings.Index(out, "SPF") {
		t.Error("the provider table must come before the sections")
	}
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Requirements []struct {
			Provider, ID, Status, Summary string
			Reply                         *struct{ Code int }
		} `json:"requirements"`
		Sections []json.RawMessage `json:"sections"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Requirements) != 5 || doc.Requirements[2].ID != "dkim" || doc.Requirements[2].Reply.Code != 550 || len(doc.Sections) != 1 {
		t.Fatalf("json: %s", buf.String())
	}
}
