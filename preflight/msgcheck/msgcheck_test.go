package msgcheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

const goodHeader = "From: News <news@example.com>\n" +
	"To: alice@example.net\n" +
	"Subject: Spring offers\n" +
	"Date: Mon, 02 Mar 2026 10:00:00 +0000\n" +
	"Message-ID: <20260302100000.1@mail.example.com>\n" +
	"List-Unsubscribe: <mailto:unsub@example.com?subject=u>,\n <https://example.com/u/opaque-token>\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"

const goodBody = "Content-Type: text/html; charset=utf-8\n\n" +
	`<p>Offers at <a href="https://shop.example.com/spring?x=1">the shop</a> and http://user@tracker.example.org:8080/p</p>` + "\n"

// edit replaces the first field line starting with name (or adds line when
// name is not there) in the good header.
func edit(name, line string) string {
	var out []string
	done, skipping := false, false
	for _, l := range strings.SplitAfter(goodHeader, "\n") {
		if skipping && strings.HasPrefix(l, " ") {
			continue // the replaced field's continuation line
		}
		skipping = false
		if !done && name != "" && strings.HasPrefix(l, name+":") {
			done, skipping = true, true
			if line != "" {
				out = append(out, line+"\n")
			}
			continue
		}
		out = append(out, l)
	}
	if !done && line != "" {
		out = append(out, line+"\n")
	}
	return strings.Join(out, "") + goodBody
}

func TestCheckForm(t *testing.T) {
	for _, tc := range []struct {
		name        string
		msg         string
		field, kind string // "" = no problem
	}{
		{"good", goodHeader + goodBody, "", ""},
		{"no From", edit("From", ""), "From", "missing"},
		{"two From fields", edit("", "From: other@example.com"), "From", "duplicate"},
		{"two addresses in From", edit("From", "From: a@example.com, b@example.com"), "From", "multiple-addresses"},
		{"From is no address", edit("From", "From: news at example.com"), "From", "invalid"},
		{"From domain invalid", edit("From", "From: news@exa_mple..com"), "From", "invalid"},
		{"no Date", edit("Date", ""), "Date", "missing"},
		{"bad Date", edit("Date", "Date: yesterday"), "Date", "invalid"},
		{"no Message-ID", edit("Message-ID", ""), "Message-ID", "missing"},
		{"Message-ID without brackets", edit("Message-ID", "Message-ID: 123@example.com"), "Message-ID", "invalid"},
		{"Message-ID without @", edit("Message-ID", "Message-ID: <12345>"), "Message-ID", "invalid"},
		{"two Subjects", edit("", "Subject: again"), "Subject", "duplicate"},
		{"literal Message-ID right side", edit("Message-ID", "Message-ID: <a.b@[192.0.2.1]>"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if tc.field == "" {
				if len(r.Form) != 0 {
					t.Fatalf("problems %+v", r.Form)
				}
				return
			}
			for _, p := range r.Form {
				if p.Field == tc.field && p.Kind == tc.kind {
					return
				}
			}
			t.Fatalf("want %s %s, got %+v", tc.field, tc.kind, r.Form)
		})
	}
}

func TestCheckUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		name      string
		msg       string
		oneClick  bool
		problem   string
		findingID string
	}{
		{"good", goodHeader + goodBody, true, "", "message.one-click-not-signed"},
		{"no List-Unsubscribe", edit("List-Unsubscribe", ""), false, "no List-Unsubscribe field", "message.one-click-missing"},
		{"mailto only", edit("List-Unsubscribe", "List-Unsubscribe: <mailto:u@example.com>"), false, "no HTTPS URI", "message.one-click-missing"},
		{"http, not https", edit("List-Unsubscribe", "List-Unsubscribe: <http://example.com/u/1>"), false, "no HTTPS URI", "message.one-click-missing"},
		{"URI without brackets", edit("List-Unsubscribe", "List-Unsubscribe: https://example.com/u/1"), false, "holds no <URI>", "message.one-click-missing"},
		{"wrong form One-Click", edit("List-Unsubscribe-Post", "List-Unsubscribe-Post: One-Click"), false, "common wrong form", "message.one-click-wrong-form"},
		{"other post value", edit("List-Unsubscribe-Post", "List-Unsubscribe-Post: List-Unsubscribe=One-Click; extra"), false, "must be exactly", "message.one-click-missing"},
		{"no post field", edit("List-Unsubscribe-Post", ""), false, "no List-Unsubscribe-Post", "message.one-click-missing"},
		{"two post fields", edit("", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"), false, "2 List-Unsubscribe-Post", "message.one-click-missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			u := r.Unsubscribe
			if u.OneClick != tc.oneClick || !strings.Contains(strings.Join(u.Problems, "|"), tc.problem) {
				t.Fatalf("one-click %v problems %q", u.OneClick, u.Problems)
			}
			if f := r.OneClickFinding(nil); f.ID != tc.findingID || f.Severity != report.Failure {
				t.Fatalf("finding %s %s", f.ID, f.Severity)
			}
		})
	}
}

func TestOneClickCoverage(t *testing.T) {
	r, err := Check([]byte(goodHeader + goodBody))
	if err != nil {
		t.Fatal(err)
	}
	both := []string{"From", "List-Unsubscribe", "List-Unsubscribe-Post"}
	for _, tc := range []struct {
		name string
		sigs []dkim.Signature
		id   string
		sev  report.Severity
	}{
		{"valid and covering", []dkim.Signature{{Domain: "example.com", SignedHeaders: both, Result: dkim.SigPass}}, "message.one-click", report.OK},
		{"valid, not covering the post field", []dkim.Signature{{SignedHeaders: []string{"From", "List-Unsubscribe"}, Result: dkim.SigPass}}, "message.one-click-not-signed", report.Failure},
		{"covering, but failing", []dkim.Signature{{SignedHeaders: both, Result: dkim.SigFail}}, "message.one-click-not-signed", report.Failure},
		{"covering, key lookup failed", []dkim.Signature{{SignedHeaders: both, Result: dkim.SigTempError}}, "message.one-click-unknown", report.Unknown},
		{"second signature covers", []dkim.Signature{{SignedHeaders: []string{"from"}, Result: dkim.SigPass}, {SignedHeaders: []string{"from", "list-unsubscribe", "list-unsubscribe-post"}, Result: dkim.SigPass}}, "message.one-click", report.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := r.OneClickFinding(&dkim.Verification{Signatures: tc.sigs})
			if f.ID != tc.id || f.Severity != tc.sev {
				t.Fatalf("%s %s: %s", f.ID, f.Severity, f.Summary)
			}
		})
	}
}

func TestCheckDetails(t *testing.T) {
	r, err := Check([]byte(goodHeader + goodBody))
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "news@example.com" || r.FromDomain != "example.com" || r.Impersonates != "" {
		t.Fatalf("from %q %q %q", r.From, r.FromDomain, r.Impersonates)
	}
	if strings.Join(r.LinkDomains, ",") != "shop.example.com,tracker.example.org" {
		t.Fatalf("link domains %v", r.LinkDomains)
	}
	if want := len(goodHeader+goodBody) + strings.Count(goodHeader+goodBody, "\n"); r.Size != want {
		t.Fatalf("size %d, want %d (CRLF)", r.Size, want)
	}
	r, _ = Check([]byte(edit("From", "From: =?utf-8?q?Gm=C3=A4il?= <support@gmail.com>")))
	if r.Impersonates != provider.Gmail || r.Findings(nil)[0].ID != "message.form-ok" {
		t.Fatalf("impersonation: %+v", r)
	}
	found := false
	for _, f := range r.Findings(nil) {
		found = found || f.ID == "message.from-provider-domain"
	}
	if !found {
		t.Fatal("no impersonation finding")
	}
}

func TestCheckNotAMessage(t *testing.T) {
	for name, in := range map[string]string{
		"plain text":   "hello, this is not a message\n",
		"latin-1 head": "From: J\xf6rg <j@example.com>\nSubject: x\n\nbody\n",
		"empty":        "",
	} {
		if _, err := Check([]byte(in)); !errors.Is(err, ErrNotMessage) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	// An 8-bit body in a declared charset is fine.
	if _, err := Check([]byte(goodHeader + "Content-Type: text/plain; charset=iso-8859-1\n\nJ\xf6rg\n")); err != nil {
		t.Errorf("latin-1 body: %v", err)
	}
}

// TestOneClickUnverifiable: when the signatures could not be verified at
// all, whether one covers the fields is unknown, not a failure; fields
// that are missing fail all the same.
func TestOneClickUnverifiable(t *testing.T) {
	v := &dkim.Verification{Err: "failed to read header: EOF"}
	r, err := Check([]byte(goodHeader + goodBody))
	if err != nil {
		t.Fatal(err)
	}
	if f := r.OneClickFinding(v); f.ID != "message.one-click-unknown" || f.Severity != report.Unknown || !strings.Contains(f.Summary, "EOF") {
		t.Errorf("right fields, unverifiable signatures: %s %s: %s", f.ID, f.Severity, f.Summary)
	}
	r, err = Check([]byte(strings.Replace(goodHeader, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n", "", 1) + goodBody))
	if err != nil {
		t.Fatal(err)
	}
	if f := r.OneClickFinding(v); f.ID != "message.one-click-missing" || f.Severity != report.Failure {
		t.Errorf("missing field, unverifiable signatures: %s %s: %s", f.ID, f.Severity, f.Summary)
	}
}
