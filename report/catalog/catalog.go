package catalog

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mxray/mxray/internal/lazyre"
)

//go:embed *.json
var catalogFS embed.FS

// Entry is one cause in the reply catalog. The JSON form is documented
// in README.md.
type Entry struct {
	ID           string    `json:"id"`
	Cause        string    `json:"cause,omitempty"`
	Stages       []Stage   `json:"stages,omitempty"`
	RequireStage bool      `json:"require_stage,omitempty"`
	Strict       bool      `json:"strict,omitempty"` // codes/enhanced must be present even with patterns
	Codes        []string  `json:"codes,omitempty"`
	Enhanced     []string  `json:"enhanced,omitempty"`
	Patterns     []string  `json:"patterns,omitempty"`
	Exclude      []string  `json:"exclude,omitempty"`
	Reason       string    `json:"reason"`
	Permanent    bool      `json:"permanent,omitempty"`
	ActionBy     ActionBy  `json:"action_by"`
	Summary      string    `json:"summary"`
	Fix          string    `json:"fix"`
	References   []string  `json:"references,omitempty"`
	Source       string    `json:"source,omitempty"`
	Examples     []Example `json:"examples,omitempty"`
	NearMiss     []Example `json:"near_miss,omitempty"`

	// File is the catalog file the entry was loaded from; Index its
	// position in the combined, ordered catalog.
	File  string `json:"-"`
	Index int    `json:"-"`

	patterns []textPattern
	exclude  []textPattern
	codes    []codePattern     // Codes, parsed
	enhanced []enhancedPattern // Enhanced, parsed
}

// codePattern is "550", "55x" or "5xx": a digit, or -1 for x, per place.
type codePattern [3]int8

// enhancedPattern is a parsed Enhanced condition: class (-1 for X),
// subject (-1 for *), detail range lo..hi (-1 for *).
type enhancedPattern struct {
	class, subject, lo, hi int
}

// Example is a reply used by the catalog's own tests: an entry must
// win each of its examples and must not match its near misses.
type Example struct {
	Stage    Stage  `json:"stage,omitempty"`
	Code     int    `json:"code,omitempty"`
	Enhanced string `json:"enhanced,omitempty"`
	Text     string `json:"text,omitempty"`
}

// Catalog is the ordered list of entries; the first match wins.
type Catalog struct {
	Entries []*Entry
	byID    map[string]*Entry
	lits    *literalIndex
}

// Entry returns the entry with the id, or nil.
func (c *Catalog) Entry(id string) *Entry { return c.byID[id] }

// Fallback reports whether the entry is one of the fallbacks per enhanced
// code, basic code or reply class (files 70- and later): a reply explained
// by one said nothing the catalog recognised beyond its codes.
func (e *Entry) Fallback() bool { return e.File >= "70" }

// Provider reports whether the entry is a provider's or a blocklist
// operator's documented reply (files 10- to 20-): its meaning is the
// provider's, not the generic one of its words or codes.
func (e *Entry) Provider() bool { return e.File < "25" }

var validStages = map[Stage]bool{
	StageConnect: true, StageEHLO: true, StageSTARTTLS: true, StageAUTH: true, StageMAIL: true,
	StageRCPT: true, StageDATA: true, StageVRFY: true, StageRSET: true, StageQUIT: true,
}

var validActions = map[ActionBy]bool{
	ActionSender: true, ActionSenderAdmin: true, ActionRecipientAdmin: true, ActionNobody: true,
}

var (
	codePatternRE     = lazyre.New(`^[1-5][0-9x][0-9x]$`)
	enhancedPatternRE = lazyre.New(`^(?:[245X]\.(?:\*|[0-9]{1,3}\.(?:\*|[0-9]{1,3}(?:-[0-9]{1,3})?)))$`)
	captureRefRE      = lazyre.New(`\{([a-z_]+)\}`)
)

// Load reads every *.json file at the top of fsys in lexical order
// and validates and compiles its entries. Errors name the file and entry.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	c := &Catalog{byID: map[string]*Entry{}}
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		entries, err := decodeCatalogFile(data)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		for i, e := range entries {
			e.File = path.Base(name)
			if err := e.compile(); err != nil {
				return nil, fmt.Errorf("catalog %s entry %d (%q): %w", name, i, e.ID, err)
			}
			if prev, dup := seen[e.ID]; dup {
				return nil, fmt.Errorf("catalog %s: entry id %q already used in %s", name, e.ID, prev)
			}
			seen[e.ID] = name
			e.Index = len(c.Entries)
			c.Entries = append(c.Entries, e)
			c.byID[e.ID] = e
		}
	}
	if len(c.Entries) == 0 {
		return nil, fmt.Errorf("catalog: no entries")
	}
	c.lits = buildLiteralIndex(c.Entries)
	return c, nil
}

// decodeCatalogFile accepts {"entries": [...]} or a bare array; unknown
// fields are errors, so a misspelt key cannot silently widen an entry.
func decodeCatalogFile(data []byte) ([]*Entry, error) {
	trimmed := strings.TrimSpace(string(data))
	var entries []*Entry
	if strings.HasPrefix(trimmed, "[") {
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&entries); err != nil {
			return nil, err
		}
		return entries, nil
	}
	var file struct {
		Comment string   `json:"_comment,omitempty"`
		Entries []*Entry `json:"entries"`
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, err
	}
	return file.Entries, nil
}

func (e *Entry) compile() error {
	if e.ID == "" {
		return fmt.Errorf("missing id")
	}
	if e.Cause == "" {
		e.Cause = e.ID
	}
	if e.Reason == "" || e.Summary == "" || e.Fix == "" {
		return fmt.Errorf("reason, summary and fix are required")
	}
	if !validActions[e.ActionBy] {
		return fmt.Errorf("action_by %q is not one of sender, sender-admin, recipient-admin, nobody", e.ActionBy)
	}
	for _, s := range e.Stages {
		if !validStages[s] {
			return fmt.Errorf("unknown stage %q", s)
		}
	}
	if e.RequireStage && len(e.Stages) == 0 {
		return fmt.Errorf("require_stage without stages")
	}
	for _, c := range e.Codes {
		if !codePatternRE.MatchString(c) {
			return fmt.Errorf("bad code pattern %q (want e.g. 550, 55x, 5xx)", c)
		}
	}
	for _, x := range e.Enhanced {
		if !enhancedPatternRE.MatchString(x) {
			return fmt.Errorf("bad enhanced pattern %q (want e.g. 5.7.26, X.7.26, 5.7.606-649, 5.7.*, X.7.*, 4.*)", x)
		}
		if lo, hi, isRange := detailRange(x); isRange && lo > hi {
			return fmt.Errorf("bad enhanced range %q", x)
		}
	}
	e.codes, e.enhanced = nil, nil
	for _, c := range e.Codes {
		var cp codePattern
		for i := 0; i < 3; i++ {
			cp[i] = -1
			if c[i] != 'x' {
				cp[i] = int8(c[i] - '0')
			}
		}
		e.codes = append(e.codes, cp)
	}
	for _, x := range e.Enhanced {
		e.enhanced = append(e.enhanced, parseEnhancedPattern(x))
	}
	e.patterns, e.exclude = nil, nil
	for _, p := range e.Patterns {
		tp, err := compilePattern(p)
		if err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
		e.patterns = append(e.patterns, tp)
	}
	for _, p := range e.Exclude {
		tp, err := compilePattern(p)
		if err != nil {
			return fmt.Errorf("exclude %q: %w", p, err)
		}
		e.exclude = append(e.exclude, tp)
	}
	return nil
}

var (
	defaultCatalogOnce sync.Once
	defaultCatalog     *Catalog
	defaultCatalogErr  error
)

// Default is the catalog embedded in the binary. The error can only
// be non-nil if the embedded data is broken, which the package tests rule out.
func Default() (*Catalog, error) {
	defaultCatalogOnce.Do(func() {
		defaultCatalog, defaultCatalogErr = Load(catalogFS)
	})
	return defaultCatalog, defaultCatalogErr
}

// Explain maps one SMTP reply, seen at a stage, to its documented cause using
// the embedded catalog. code may be 0 and enhanced "" when the reply (e.g. a
// line from a bounce body) has none; the text then decides.
func Explain(stage Stage, code int, enhanced string, text string) Explanation {
	c, err := Default()
	if err != nil {
		// Not reachable with a tested build; say so rather than guess.
		return Explanation{Stage: stage, Code: code, EnhancedCode: enhanced, Reason: "undefined",
			Cause: "catalog.unavailable", ActionBy: ActionNobody,
			Summary:   "the reply catalog could not be loaded: " + err.Error(),
			Permanent: code >= 500 && code < 600}
	}
	return c.Explain(stage, code, enhanced, text)
}

// reply is a reply prepared for matching.
type reply struct {
	stage                  Stage
	code                   int    // 0 = unknown
	enhanced               string // "" = unknown; otherwise canonical "c.s.d"
	class, subject, detail int
	text                   string   // normalized: prefixes stripped, one line, single spaces
	lower                  string   // text with ASCII letters in lower case (same byte offsets)
	ascii                  bool     // the text is pure ASCII
	foldOnly               bool     // the text has a rune that folds to an ASCII letter (K, ſ): match with case folding only
	hits                   []uint64 // the catalog's prefilter literals the lowered text contains (nil: not computed)
}

var (
	// A reply line's own prefixes: "550-", "550 ", "#554 ", "554:", then an
	// enhanced code "5.7.1 ", "5.7.1:", "(#5.3.0)". Stripped so that patterns
	// see only the words, whatever the wrapping (RFC 5321 §4.2.1 multi-line).
	leadCodeRE     = lazyre.New(`^#?\s*([1-5][0-9]{2})(?:[ \t:-]+|$)`)
	leadEnhancedRE = lazyre.New(`^\(?#?([245])\.([0-9]{1,3})\.([0-9]{1,3})\)?(?:[ \t:]+|$)`)
	inlineContRE   = lazyre.New(`\s[2-5][0-9]{2}-[245]\.[0-9]{1,3}\.[0-9]{1,3}\s`)
)

// normalizeReplyText strips per-line reply codes and enhanced codes and joins
// the lines with single spaces. It returns the first basic and enhanced code
// it stripped (0/"" if none).
func normalizeReplyText(text string) (norm string, code int, enhanced string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	parts := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(l)
		// A repeated code ("554 554 5.7.0 ...", common in Diagnostic-Code
		// fields that quote the reply after their own code) is stripped too.
		for i := 0; i < 2; i++ {
			m := leadCodeRE.FindStringSubmatchIndex(l)
			if m == nil {
				break
			}
			c, _ := strconv.Atoi(l[m[2]:m[3]])
			if i > 0 && c != code {
				break
			}
			if code == 0 {
				code = c
			}
			l = strings.TrimSpace(l[m[1]:])
		}
		if m := leadEnhancedRE.FindStringSubmatch(l); m != nil {
			if enhanced == "" {
				enhanced = m[1] + "." + m[2] + "." + m[3]
			}
			l = strings.TrimSpace(l[len(m[0]):])
		}
		if l != "" {
			parts = append(parts, l)
		}
	}
	norm = CollapseSpace(strings.Join(parts, " "))
	// Logs and bounces often unwrap a multi-line reply onto one line, leaving
	// the continuation prefixes inside the text ("... a PTR 550-5.7.1 record
	// setup"). A "NNN-x.y.z" token is such a prefix; so is "NNN x.y.z" when
	// it repeats the reply's own codes.
	if mayHaveContinuation(norm) {
		norm = inlineContRE.ReplaceAllString(norm, " ")
	}
	if code != 0 && enhanced != "" {
		norm = strings.ReplaceAll(norm, " "+strconv.Itoa(code)+" "+enhanced+" ", " ")
	}
	return strings.TrimSpace(norm), code, enhanced
}

func prepareReply(stage Stage, code int, enhanced, text string) reply {
	if stage == "" {
		stage = StageUnknown
	}
	norm, tcode, tenh := normalizeReplyText(text)
	r := reply{stage: stage, code: code, text: norm}
	r.ascii = isASCII(norm)
	r.foldOnly = !r.ascii && strings.ContainsAny(norm, "\u212a\u017f")
	if !r.foldOnly {
		r.lower = ASCIILower(norm)
	}
	if r.code == 0 {
		r.code = tcode
	}
	if r.code < 100 || r.code > 599 {
		r.code = 0
	}
	if enhanced == "" {
		enhanced = tenh
	}
	if c, s, d, ok := ParseEnhancedCode(enhanced); ok {
		// An enhanced code whose class contradicts the basic code is not
		// trusted (RFC 3463 §2: the class must match the reply's class).
		if r.code == 0 || r.code/100 == c {
			r.enhanced = fmt.Sprintf("%d.%d.%d", c, s, d)
			r.class, r.subject, r.detail = c, s, d
		}
	}
	return r
}

// Match returns the first entry that matches the reply, with the text the
// pattern matched and its named captures.
func (c *Catalog) Match(stage Stage, code int, enhanced, text string) (*Entry, string, map[string]string) {
	r := prepareReply(stage, code, enhanced, text)
	e := c.first(&r)
	if e == nil {
		return nil, "", nil
	}
	_, m, caps := e.match(&r, true)
	return e, m, caps
}

// first is the first entry that matches (without captures: only the
// winner's are needed).
func (c *Catalog) first(r *reply) *Entry {
	if c.lits != nil && !r.foldOnly && r.hits == nil {
		r.hits = c.lits.scan(r.lower)
	}
	for _, e := range c.Entries {
		if ok, _, _ := e.match(r, false); ok {
			return e
		}
	}
	return nil
}

// Explain is Explain on this catalog.
func (c *Catalog) Explain(stage Stage, code int, enhanced string, text string) Explanation {
	r := prepareReply(stage, code, enhanced, text)
	return c.explainWith(c.first(&r), &r)
}

// explainWith builds the explanation of r by entry (nil: no entry matched).
func (c *Catalog) explainWith(entry *Entry, r *reply) Explanation {
	ex := Explanation{Stage: r.stage, Code: r.code, EnhancedCode: r.enhanced}
	if r.enhanced != "" {
		// Only registered codes get a name; Microsoft's 5.7.606 and the like
		// are explained by their catalog entry instead.
		if name, _, ok := EnhancedCodeInfo(r.enhanced); ok {
			ex.EnhancedName = name
		}
	}
	if entry == nil {
		// The class fallbacks match every coded reply; only an uncoded,
		// unrecognized text gets here when the catalog has no catch-all.
		ex.Reason, ex.Cause, ex.ActionBy = "undefined", "unknown", ActionNobody
		ex.Summary = "the reply could not be classified"
		return ex
	}
	_, matched, caps := entry.match(r, true)
	ex.Entry, ex.Cause, ex.Reason, ex.ActionBy = entry.ID, entry.Cause, entry.Reason, entry.ActionBy
	ex.Matched, ex.Captures, ex.Source = matched, caps, entry.Source
	ex.References = append([]string(nil), entry.References...)
	// The reply's own class is the truth about retrying (RFC 5321 §4.2.1,
	// RFC 3463 §3.1); the entry's default only applies to uncoded text.
	switch {
	case r.code != 0:
		ex.Permanent = r.code >= 500
	case r.class != 0:
		ex.Permanent = r.class == 5
	default:
		ex.Permanent = entry.Permanent
	}
	vars := map[string]string{"code": strconv.Itoa(r.code), "enhanced": r.enhanced, "enhanced_name": ex.EnhancedName}
	if r.code == 0 {
		vars["code"] = "(no code)"
	}
	for k, v := range caps {
		vars[k] = v
	}
	ex.Summary = expandVars(entry.Summary, vars)
	ex.Fix = expandVars(entry.Fix, vars)
	return ex
}

// expandVars substitutes {name} with captured values. A value the reply did
// not carry (an optional group) expands to nothing, and the leftovers
// ("IP  is", "()") are tidied, so entries can mention optional details.
func expandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	out := captureRefRE.ReplaceAllStringFunc(s, func(m string) string {
		return vars[m[1:len(m)-1]]
	})
	out = strings.NewReplacer(" ()", "", "()", "", " []", "", "[]", "").Replace(out)
	return strings.TrimSpace(CollapseSpace(out))
}

// CollapseSpace replaces each run of white space (\s: space, tab,
// newline, carriage return, form feed) by one space.
func CollapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// mayHaveContinuation: a digit, "-", a digit and "." — what a continuation
// prefix "550-5.7.1" inside a line needs.
func mayHaveContinuation(s string) bool {
	for i := 1; i+2 < len(s); i++ {
		if s[i] == '-' && s[i-1] >= '0' && s[i-1] <= '9' && s[i+1] >= '2' && s[i+1] <= '5' && s[i+2] == '.' {
			return true
		}
	}
	return false
}

// match reports whether the entry applies to r. A condition on a field the
// reply lacks (code 0, no enhanced code) holds only if the entry has text
// patterns, which then decide; fallbacks without patterns need the field.
// With want, the matched text and named captures are returned too (only
// the winning entry needs them).
func (e *Entry) match(r *reply, want bool) (bool, string, map[string]string) {
	if !e.fieldsMatch(r) {
		return false, "", nil
	}
	if len(e.patterns) == 0 {
		return !e.excluded(r), "", nil
	}
	for _, p := range e.patterns {
		if !want {
			if p.matches(r) {
				return !e.excluded(r), "", nil
			}
			continue
		}
		m := p.find(r)
		if m == nil {
			continue
		}
		if e.excluded(r) {
			return false, "", nil
		}
		var caps map[string]string
		for i, name := range p.fold.SubexpNames() {
			if name == "" || m[2*i] < 0 {
				continue
			}
			if caps == nil {
				caps = map[string]string{}
			}
			caps[name] = r.text[m[2*i]:m[2*i+1]]
		}
		return true, r.text[m[0]:m[1]], caps
	}
	return false, "", nil
}

// fieldsMatch checks the stage, code and enhanced-code conditions.
func (e *Entry) fieldsMatch(r *reply) bool {
	hasText := len(e.patterns) > 0 && !e.Strict
	if len(e.Stages) > 0 {
		if r.stage == StageUnknown {
			if e.RequireStage {
				return false
			}
		} else if !stageIn(r.stage, e.Stages) {
			return false
		}
	}
	if len(e.Codes) > 0 {
		if r.code == 0 {
			if !hasText {
				return false
			}
		} else if !codeIn(r.code, e.codes) {
			return false
		}
	}
	if len(e.Enhanced) > 0 {
		if r.enhanced == "" {
			if !hasText {
				return false
			}
		} else if !enhancedIn(r, e.enhanced) {
			return false
		}
	}
	return true
}

func (e *Entry) excluded(r *reply) bool {
	for _, x := range e.exclude {
		if x.matches(r) {
			return true
		}
	}
	return false
}

func stageIn(s Stage, list []Stage) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func codeIn(code int, pats []codePattern) bool {
	d := [3]int8{int8(code / 100), int8(code / 10 % 10), int8(code % 10)}
	for _, p := range pats {
		if (p[0] < 0 || p[0] == d[0]) && (p[1] < 0 || p[1] == d[1]) && (p[2] < 0 || p[2] == d[2]) {
			return true
		}
	}
	return false
}

// parseEnhancedPattern reads "5.7.26", "X.7.26", "5.7.606-649", "5.7.*",
// "X.7.*", "4.*" (validated by compile's enhancedPatternRE).
func parseEnhancedPattern(pat string) enhancedPattern {
	p := enhancedPattern{class: -1, subject: -1, lo: -1, hi: -1}
	parts := strings.Split(pat, ".")
	if parts[0] != "X" {
		p.class, _ = strconv.Atoi(parts[0])
	}
	if parts[1] == "*" {
		return p
	}
	p.subject, _ = strconv.Atoi(parts[1])
	if parts[2] == "*" {
		return p
	}
	if lo, hi, ok := detailRange(pat); ok {
		p.lo, p.hi = lo, hi
	} else {
		p.lo, _ = strconv.Atoi(parts[2])
		p.hi = p.lo
	}
	return p
}

// matches reports whether class.subject.detail matches the pattern.
func (p enhancedPattern) matches(class, subject, detail int) bool {
	return (p.class < 0 || p.class == class) && (p.subject < 0 || p.subject == subject) &&
		(p.lo < 0 || detail >= p.lo && detail <= p.hi)
}

// detailRange parses the detail range of a pattern like "5.7.606-649"
// (Microsoft documents blocks of codes as ranges).
func detailRange(pat string) (lo, hi int, ok bool) {
	i := strings.LastIndexByte(pat, '.')
	d := pat[i+1:]
	a, b, found := strings.Cut(d, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return lo, hi, true
}

func enhancedIn(r *reply, pats []enhancedPattern) bool {
	for _, p := range pats {
		if p.matches(r.class, r.subject, r.detail) {
			return true
		}
	}
	return false
}

// ASCIILower lowers the ASCII letters of s and leaves every other byte:
// the result has the same length and offsets, so what an expression finds
// in it can be cut from s (used wherever reply text is matched without
// case folding).
func ASCIILower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
