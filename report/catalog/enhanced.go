package catalog

// Enhanced mail system status codes (RFC 3463, updated by RFC 3886, 4468,
// 4954, 5248, 6531, 6710, 7293, 7372, 7504, 7505, 8617, 8689).
//
// An enhanced code is class.subject.detail (RFC 3463 §2): the class is 2
// (success), 4 (persistent transient failure) or 5 (permanent failure); the
// subject (0–7: other, addressing, mailbox, mail system, network/routing,
// protocol, content/media, security/policy) and detail are 1–3 digits each.
// RFC 2034 puts the code at the start of the reply text, after the basic code.
// The names come from the IANA registry (RFC 5248), embedded as
// catalog/enhanced-status-codes.csv.

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:embed enhanced-status-codes.csv
var enhancedRegistryCSV string

// EnhancedCodeDef is one enumerated code of the registry (class-independent,
// "X.7.26").
type EnhancedCodeDef struct {
	Code       string // "X.7.26"
	Name       string // "Multiple authentication checks failed"
	BasicCodes string // associated basic codes, as the registry lists them
	Reference  string // defining RFC(s)
	Note       string
}

type enhancedRegistry struct {
	classes  map[string]string // "4" -> "Persistent Transient Failure"
	subjects map[string]string // "7" -> "Security or Policy Status"
	codes    map[string]EnhancedCodeDef
	order    []string
}

var (
	registryOnce sync.Once
	registry     *enhancedRegistry
	registryErr  error
)

func loadEnhancedRegistry() (*enhancedRegistry, error) {
	registryOnce.Do(func() { registry, registryErr = parseEnhancedRegistry(enhancedRegistryCSV) })
	return registry, registryErr
}

// parseEnhancedRegistry reads the registry CSV: registry,code,sample_text,
// associated_basic_status_codes,reference,note.
func parseEnhancedRegistry(text string) (*enhancedRegistry, error) {
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("enhanced status registry: %w", err)
	}
	reg := &enhancedRegistry{classes: map[string]string{}, subjects: map[string]string{}, codes: map[string]EnhancedCodeDef{}}
	for i, row := range rows {
		if i == 0 {
			continue // header
		}
		if len(row) < 6 {
			return nil, fmt.Errorf("enhanced status registry line %d: %d fields", i+1, len(row))
		}
		kind, code := row[0], row[1]
		switch kind {
		case "class":
			reg.classes[code[:1]] = row[2]
		case "subject":
			reg.subjects[strings.Split(code, ".")[1]] = row[2]
		case "enumerated":
			reg.codes[code] = EnhancedCodeDef{Code: code, Name: row[2], BasicCodes: row[3], Reference: row[4], Note: row[5]}
			reg.order = append(reg.order, code)
		default:
			return nil, fmt.Errorf("enhanced status registry line %d: kind %q", i+1, kind)
		}
	}
	return reg, nil
}

// EnhancedRegistry returns the enumerated codes of the registry in order.
func EnhancedRegistry() []EnhancedCodeDef {
	reg, err := loadEnhancedRegistry()
	if err != nil {
		return nil
	}
	out := make([]EnhancedCodeDef, 0, len(reg.order))
	for _, c := range reg.order {
		out = append(out, reg.codes[c])
	}
	return out
}

// ParseEnhancedCode parses "5.7.26" (also "#5.7.26", "(#5.7.26)", "5.7.26:")
// into its parts. ok is false unless the class is 2, 4 or 5 and subject and
// detail have 1–3 digits (RFC 3463 §2).
func ParseEnhancedCode(s string) (class, subject, detail int, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "(")
	s = strings.TrimPrefix(s, "#")
	s = strings.TrimSuffix(s, ":")
	s = strings.TrimSuffix(s, ")")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i, p := range parts {
		if len(p) < 1 || len(p) > 3 || (i == 0 && len(p) != 1) {
			return 0, 0, 0, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		v[i] = n
	}
	if v[0] != 2 && v[0] != 4 && v[0] != 5 {
		return 0, 0, 0, false
	}
	return v[0], v[1], v[2], true
}

// EnhancedCodeInfo names an enhanced status code from the registry. name is
// the enumerated code's name ("Multiple authentication checks failed");
// description spells out class and subject and the defining RFC. For a
// well-formed code the registry does not enumerate (e.g. Microsoft's 5.7.606)
// ok is false, but name and description still give the subject (or class).
func EnhancedCodeInfo(code string) (name, description string, ok bool) {
	c, s, d, valid := ParseEnhancedCode(code)
	if !valid {
		return "", "", false
	}
	reg, err := loadEnhancedRegistry()
	if err != nil {
		return "", "", false
	}
	className := reg.classes[strconv.Itoa(c)]
	subjName, subjOK := reg.subjects[strconv.Itoa(s)]
	def, enumerated := reg.codes[fmt.Sprintf("X.%d.%d", s, d)]
	switch {
	case enumerated:
		desc := fmt.Sprintf("%s; %s; %s", className, subjName, def.Name)
		if def.Reference != "" {
			desc += " (" + def.Reference + ")"
		}
		return def.Name, desc, true
	case subjOK:
		return subjName, fmt.Sprintf("%s; %s; detail %d is not enumerated in the registry", className, subjName, d), false
	default:
		return className, fmt.Sprintf("%s; subject %d is not defined by RFC 3463", className, s), false
	}
}
