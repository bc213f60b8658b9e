package preflight

// Tests of the review's findings: each one failed before its fix.

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/preflight/msgcheck"
	"github.com/mxray/mxray/report"
)

// TestUnverifiableSignaturesAreUnknown: when go-msgauth cannot read the
// message, nothing was observed about its signatures: the dkim and
// one-click rows are unknown, never "not DKIM-signed".
func TestUnverifiableSignaturesAreUnknown(t *testing.T) {
	msg, err := msgcheck.Check([]byte(campaign(t)))
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Message: msg, DKIM: &dkim.Verification{Err: "failed to read header: EOF"}}
	for id, f := range map[string]fact{"dkim": dkimFact(res), "one-click-unsubscribe": oneClickFact(res)} {
		if f.status != report.ReqUnknown || !strings.Contains(f.summary, "EOF") {
			t.Errorf("%s: %s (%s), want unknown with the reason", id, f.status, f.summary)
		}
	}
}

// TestPreflightHeaderOnlyMessage: a signed message without a body (RFC
// 5322 §3.5 allows it, with no empty line after the header) is verified,
// and every row it decides passes.
func TestPreflightHeaderOnlyMessage(t *testing.T) {
	w := newWorld(t)
	header, _, _ := strings.Cut(campaign(t), "\n\n")
	signed := w.sign(t, header+"\n\n", "example.com", "s1", worldSigned)
	opt := w.goodOptions(t)
	opt.Message = bytes.TrimSuffix(signed, []byte("\n"))
	res := w.run(t, opt)
	r := rows(res)
	for _, id := range []string{"dkim", "one-click-unsubscribe", "message-format", "alignment"} {
		for p, q := range r[id] {
			if q.Status != report.ReqPass {
				t.Errorf("%s %s: %s (%s)", p, id, q.Status, q.Summary)
			}
		}
	}
}
