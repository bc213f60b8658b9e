package check

import (
	"testing"

	"github.com/mxray/mxray/report"
)

// Port-25 certificate problems are info by themselves and take the
// severity the domain's MTA-STS policy gives them.
func TestGradeCertificates(t *testing.T) {
	findings := func() []report.Finding {
		return []report.Finding{
			{ID: "smtp.certificate-self-signed", Severity: report.Info},
			{ID: "smtp.certificate-expiring", Severity: report.Info},
			{ID: "smtp.size", Severity: report.Info},
		}
	}
	for _, tt := range []struct {
		mode              string
		problem, expiring report.Severity
	}{
		{"", report.Info, report.Info},
		{"none", report.Info, report.Info},
		{"testing", report.Warning, report.Warning},
		{"enforce", report.Failure, report.Warning},
	} {
		fs := findings()
		gradeCertificates(fs, tt.mode)
		if fs[0].Severity != tt.problem || fs[1].Severity != tt.expiring || fs[2].Severity != report.Info {
			t.Errorf("mode %q: %v %v %v, want %v %v info", tt.mode, fs[0].Severity, fs[1].Severity, fs[2].Severity, tt.problem, tt.expiring)
		}
	}
}
