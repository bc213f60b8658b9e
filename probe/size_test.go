package probe

import (
	"fmt"
	"testing"

	"github.com/mxray/mxray/report"
)

// The SIZE limit is the operator's choice (Postfix's default 10240000 is
// info); only a limit below RFC 5321 §4.5.3.1.7's 64K octets warns.
func TestSizeFindings(t *testing.T) {
	f := func(id string, sev report.Severity, summary string) report.Finding {
		return report.Finding{ID: id, Severity: sev, Summary: summary}
	}
	for _, tt := range []struct {
		size string
		want report.Severity
	}{
		{"10240000", report.Info}, // Postfix message_size_limit default
		{"0", report.Info},        // no fixed limit
		{"65536", report.Info},
		{"65535", report.Warning},
		{"20000", report.Warning},
	} {
		ext := Extensions{{Keyword: "SIZE", Params: []string{tt.size}, Raw: "SIZE " + tt.size}}
		fs := sizeFindings(ext, f)
		if len(fs) != 1 || fs[0].Severity != tt.want {
			t.Errorf("SIZE %s: %v, want %v", tt.size, fmt.Sprint(fs), tt.want)
		}
	}
}
