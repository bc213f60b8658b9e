package catalog

import (
	"strconv"
	"testing"
)

func TestParseEnhancedCode(t *testing.T) {
	tests := []struct {
		in      string
		c, s, d int
		ok      bool
	}{
		{"5.7.26", 5, 7, 26, true},
		{"4.2.2", 4, 2, 2, true},
		{"2.0.0", 2, 0, 0, true},
		{"#5.1.1", 5, 1, 1, true},
		{"(#5.3.0)", 5, 3, 0, true},
		{"5.7.606:", 5, 7, 606, true},
		{" 5.1.10 ", 5, 1, 10, true},
		{"3.0.0", 0, 0, 0, false},    // class must be 2, 4 or 5 (RFC 3463 §2)
		{"55.1.1", 0, 0, 0, false},   // class is one digit
		{"5.1234.1", 0, 0, 0, false}, // subject at most 3 digits
		{"5.1", 0, 0, 0, false},
		{"5.1.", 0, 0, 0, false},
		{"5.a.1", 0, 0, 0, false},
		{"5.-1.1", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"4.16.55.1", 0, 0, 0, false}, // Yahoo's internal id, not an enhanced code
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, s, d, ok := ParseEnhancedCode(tt.in)
			if c != tt.c || s != tt.s || d != tt.d || ok != tt.ok {
				t.Errorf("ParseEnhancedCode(%q) = %d,%d,%d,%v want %d,%d,%d,%v", tt.in, c, s, d, ok, tt.c, tt.s, tt.d, tt.ok)
			}
		})
	}
}

func TestEnhancedCodeInfo(t *testing.T) {
	tests := []struct {
		code, name string
		ok         bool
	}{
		{"5.7.26", "Multiple authentication checks failed", true},
		{"4.2.2", "Mailbox full", true},
		{"5.1.10", "Recipient address has null MX", true},
		{"5.7.28", "Mail flood detected", true},
		{"5.7.606", "Security or Policy Status", false}, // Microsoft's own, not registered: subject name only
		{"5.9.1", "Permanent Failure", false},           // no subject 9 in RFC 3463
		{"bogus", "", false},
	}
	for _, tt := range tests {
		name, desc, ok := EnhancedCodeInfo(tt.code)
		if name != tt.name || ok != tt.ok {
			t.Errorf("EnhancedCodeInfo(%q) = %q, %v; want %q, %v", tt.code, name, ok, tt.name, tt.ok)
		}
		if tt.name != "" && desc == "" {
			t.Errorf("EnhancedCodeInfo(%q): no description", tt.code)
		}
	}
	if _, desc, _ := EnhancedCodeInfo("4.7.26"); desc != "Persistent Transient Failure; Security or Policy Status; Multiple authentication checks failed (RFC7372)" {
		t.Errorf("description = %q", desc)
	}
}

// TestEnhancedRegistryData checks the embedded registry against what RFC 3463
// and its updates define: the subjects 0-7, the codes each RFC added, and
// the details per subject with no gaps.
func TestEnhancedRegistryData(t *testing.T) {
	defs := EnhancedRegistry()
	byCode := map[string]EnhancedCodeDef{}
	for _, d := range defs {
		if _, dup := byCode[d.Code]; dup {
			t.Errorf("%s listed twice", d.Code)
		}
		byCode[d.Code] = d
	}
	// Highest detail per subject in the registry (RFC 3463, 3886, 4468,
	// 4954, 5248, 6531, 6710, 7293, 7372, 7505, 8617, 8689).
	maxDetail := map[int]int{0: 0, 1: 10, 2: 4, 3: 6, 4: 7, 5: 6, 6: 10, 7: 30}
	for s, max := range maxDetail {
		for d := 0; d <= max; d++ {
			code := "X." + strconv.Itoa(s) + "." + strconv.Itoa(d)
			if _, ok := byCode[code]; !ok {
				t.Errorf("registry lacks %s", code)
			}
		}
	}
	if len(byCode) != 1+11+5+7+8+7+11+31 {
		t.Errorf("registry has %d codes", len(byCode))
	}
	for code, ref := range map[string]string{"X.7.8": "RFC4954", "X.7.13": "RFC5248", "X.7.25": "RFC7372", "X.1.10": "RFC7505", "X.7.29": "RFC8617", "X.7.30": "RFC8689", "X.6.7": "RFC6531"} {
		if byCode[code].Reference != ref {
			t.Errorf("%s reference %q, want %s", code, byCode[code].Reference, ref)
		}
	}
}
