package check

// The port-25 certificate findings are info by themselves (senders use TLS
// opportunistically and do not verify, RFC 7435 §1.3). A domain that
// publishes an MTA-STS policy asks senders to verify (RFC 8461 §4.2): in
// enforce mode they do not deliver over a certificate that fails (§5.1),
// in testing mode they deliver and report. This grades the findings by the
// policy the mta-sts part found.

import (
	"context"
	"strings"

	"github.com/mxray/mxray/dnscheck/mtasts"
	"github.com/mxray/mxray/report"
)

// certificateProblems are the findings of a certificate that does not verify.
var certificateProblems = map[string]bool{
	"smtp.certificate-expired": true, "smtp.certificate-wrong-name": true, "smtp.certificate-self-signed": true,
	"smtp.certificate-chain-incomplete": true, "smtp.certificate-untrusted": true,
}

// awaitSTSMode waits for the mta-sts part's policy beside the sessions;
// the function it returns gives the policy mode ("" without a policy).
func (env *Env) awaitSTSMode(ctx context.Context) func() string {
	mode := ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		if v, ok := env.Await(ctx, "mta-sts"); ok {
			if m, ok := v.(*mtasts.Result); ok && m.Record != nil && m.Policy != nil {
				mode = m.Policy.Mode
			}
		}
	}()
	return func() string {
		<-done
		return mode
	}
}

// gradeCertificates raises the port-25 certificate findings by the MTA-STS
// policy mode: a failure in enforce mode, a warning in testing mode.
func gradeCertificates(fs []report.Finding, mode string) {
	if mode != "enforce" && mode != "testing" {
		return
	}
	for i := range fs {
		f := &fs[i]
		switch {
		case certificateProblems[f.ID] && mode == "enforce":
			f.Severity = report.Failure
			f.Cause = "the domain's MTA-STS policy is in enforce mode: senders that apply it do not deliver to a host whose certificate does not verify (RFC 8461 §5.1)"
		case certificateProblems[f.ID]:
			f.Severity = report.Warning
			f.Cause = "the domain's MTA-STS policy is in testing mode: senders deliver but report the failure, and will refuse once the policy is enforced (RFC 8461 §5)"
		case f.ID == "smtp.certificate-expiring":
			f.Severity = report.Warning
			f.Cause = "the domain publishes an MTA-STS policy (mode " + mode + "): once the certificate expires, senders that apply it " +
				strings.TrimSpace(map[string]string{"enforce": "stop delivering", "testing": "report failures"}[mode])
		default:
			continue
		}
		f.References = append(f.References, "RFC 8461 §4.2")
	}
}
