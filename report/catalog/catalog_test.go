package catalog

import (
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	return c
}

// reasonNames reads the bounce reason taxonomy (a copy of
// shared/reference/bounces/reasons.csv).
func reasonNames(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("testdata/reasons.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range rows[1:] {
		names[r[0]] = true
	}
	return names
}

func TestCatalogEntriesWellFormed(t *testing.T) {
	c := mustCatalog(t)
	reasons := reasonNames(t)
	if len(c.Entries) < 150 {
		t.Errorf("catalog has only %d entries", len(c.Entries))
	}
	for _, e := range c.Entries {
		if !reasons[e.Reason] {
			t.Errorf("%s (%s): reason %q is not in reasons.csv", e.ID, e.File, e.Reason)
		}
		if len(e.Examples) == 0 {
			t.Errorf("%s (%s): no examples", e.ID, e.File)
		}
		// near_miss is required in the catalog's own files; the README
		// makes it optional for 45-bounce-bodies.json (owned by the bounce parser).
		if len(e.Patterns) > 0 && len(e.NearMiss) == 0 && !strings.HasPrefix(e.File, "45-") {
			t.Errorf("%s (%s): a text entry needs at least one near_miss", e.ID, e.File)
		}
		// Every {name} in summary or fix is a built-in or a named group.
		known := map[string]bool{"code": true, "enhanced": true, "enhanced_name": true}
		for _, p := range e.patterns {
			for _, n := range p.fold.SubexpNames() {
				known[n] = true
			}
		}
		for _, m := range captureRefRE.FindAllStringSubmatch(e.Summary+" "+e.Fix, -1) {
			if !known[m[1]] {
				t.Errorf("%s (%s): {%s} is neither built in nor captured by a pattern", e.ID, e.File, m[1])
			}
		}
		if e.Source == "" {
			t.Errorf("%s (%s): no source", e.ID, e.File)
		}
		if strings.ToLower(e.ID) != e.ID || strings.ContainsAny(e.ID, " \t") {
			t.Errorf("%s: ids are lower case without spaces", e.ID)
		}
	}
}

// TestCatalogExamples is the per-entry unit test: every example of an entry
// is explained by that entry — so no entry listed before it shadows it — and
// no near miss matches it.
func TestCatalogExamples(t *testing.T) {
	c := mustCatalog(t)
	for _, e := range c.Entries {
		t.Run(e.ID, func(t *testing.T) {
			for _, x := range e.Examples {
				got, _, _ := c.Match(x.Stage, x.Code, x.Enhanced, x.Text)
				switch {
				case got == nil:
					t.Errorf("example %+v matches no entry", x)
				case got != e:
					if got.Index < e.Index {
						t.Errorf("example %+v is shadowed by earlier entry %s (%s)", x, got.ID, got.File)
					} else {
						t.Errorf("example %+v does not match its entry; %s (%s) explains it", x, got.ID, got.File)
					}
				}
				ex := c.Explain(x.Stage, x.Code, x.Enhanced, x.Text)
				if ex.Entry != e.ID || ex.Cause != e.Cause || ex.Reason != e.Reason || ex.ActionBy != e.ActionBy {
					t.Errorf("Explain(%+v) = entry %s cause %s reason %s action %s", x, ex.Entry, ex.Cause, ex.Reason, ex.ActionBy)
				}
				if strings.Contains(ex.Summary, "{") || ex.Summary == "" || ex.Fix == "" {
					t.Errorf("Explain(%+v): summary %q fix %q", x, ex.Summary, ex.Fix)
				}
			}
			for _, x := range e.NearMiss {
				r := prepareReply(x.Stage, x.Code, x.Enhanced, x.Text)
				if ok, _, _ := e.match(&r, false); ok {
					t.Errorf("near miss %+v matches", x)
				}
			}
		})
	}
}

// covers reports whether earlier entry a matches every reply with known
// fields that later entry b matches: then b can only ever win uncoded text,
// which is a catalog bug.
func covers(a, b *Entry) bool {
	if len(a.Patterns) > 0 || len(a.Exclude) > 0 {
		if !slices.Equal(a.Patterns, b.Patterns) || !slices.Equal(a.Exclude, b.Exclude) {
			return false
		}
	}
	if len(a.Stages) > 0 {
		if len(b.Stages) == 0 || !b.RequireStage && a.RequireStage {
			return false
		}
		for _, s := range b.Stages {
			if !slices.Contains(a.Stages, s) {
				return false
			}
		}
	}
	if len(a.Codes) > 0 {
		if len(b.Codes) == 0 {
			return false
		}
		for _, bc := range b.Codes {
			ok := false
			for _, ac := range a.Codes {
				if codePatternCovers(ac, bc) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
	}
	if len(a.Enhanced) > 0 {
		if len(b.Enhanced) == 0 {
			return false
		}
		for _, bx := range b.Enhanced {
			ok := false
			for _, ax := range a.Enhanced {
				if enhancedPatternCovers(ax, bx) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func codePatternCovers(a, b string) bool {
	for i := 0; i < 3; i++ {
		if a[i] != 'x' && a[i] != b[i] {
			return false
		}
	}
	return true
}

// enhancedPatternCovers: every code matching b also matches a.
func enhancedPatternCovers(a, b string) bool {
	ap, bp := strings.Split(a, "."), strings.Split(b, ".")
	if ap[0] != "X" && ap[0] != bp[0] {
		return false
	}
	if ap[1] == "*" {
		return true
	}
	if bp[1] == "*" || ap[1] != bp[1] {
		return false
	}
	if ap[2] == "*" {
		return true
	}
	if bp[2] == "*" {
		return false
	}
	alo, ahi, ar := detailRange(a)
	blo, bhi, br := detailRange(b)
	if !ar {
		fmt.Sscan(ap[2], &alo)
		ahi = alo
	}
	if !br {
		fmt.Sscan(bp[2], &blo)
		bhi = blo
	}
	return alo <= blo && bhi <= ahi
}

func TestCatalogNoStructuralShadowing(t *testing.T) {
	c := mustCatalog(t)
	for j, b := range c.Entries {
		for _, a := range c.Entries[:j] {
			if covers(a, b) {
				t.Errorf("entry %s (%s) is shadowed by the more general %s (%s) listed before it", b.ID, b.File, a.ID, a.File)
				break
			}
		}
	}
}

func TestCoversDetectsShadowing(t *testing.T) {
	// The shadow check itself must be able to fail.
	general := &Entry{ID: "g", Codes: []string{"5xx"}}
	specific := &Entry{ID: "s", Codes: []string{"550"}, Enhanced: []string{"5.7.1"}, Patterns: []string{"spam"}}
	if !covers(general, specific) {
		t.Error("5xx without text should cover 550 5.7.1 spam")
	}
	if covers(specific, general) {
		t.Error("a text entry must not cover a code fallback")
	}
	if !enhancedPatternCovers("5.7.600-650", "5.7.606-649") || enhancedPatternCovers("5.7.606-649", "5.7.600") {
		t.Error("range coverage wrong")
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	good := `{"entries":[{"id":"a","reason":"blocked","action_by":"sender","summary":"s","fix":"f","examples":[{"code":550}]}]}`
	cases := map[string]string{
		"bad regex":     `{"entries":[{"id":"a","patterns":["("],"reason":"blocked","action_by":"sender","summary":"s","fix":"f"}]}`,
		"bad action":    `{"entries":[{"id":"a","reason":"blocked","action_by":"someone","summary":"s","fix":"f"}]}`,
		"bad code":      `{"entries":[{"id":"a","codes":["5500"],"reason":"blocked","action_by":"sender","summary":"s","fix":"f"}]}`,
		"bad enhanced":  `{"entries":[{"id":"a","enhanced":["5.7"],"reason":"blocked","action_by":"sender","summary":"s","fix":"f"}]}`,
		"bad stage":     `{"entries":[{"id":"a","stages":["helo"],"reason":"blocked","action_by":"sender","summary":"s","fix":"f"}]}`,
		"unknown field": `{"entries":[{"id":"a","code":["550"],"reason":"blocked","action_by":"sender","summary":"s","fix":"f"}]}`,
		"no summary":    `{"entries":[{"id":"a","reason":"blocked","action_by":"sender","fix":"f"}]}`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"10-x.json": {Data: []byte(data)}}
			if _, err := Load(fsys); err == nil {
				t.Error("no error")
			}
		})
	}
	t.Run("duplicate id across files", func(t *testing.T) {
		fsys := fstest.MapFS{"10-x.json": {Data: []byte(good)}, "20-y.json": {Data: []byte(good)}}
		if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "already used") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bare array and file order", func(t *testing.T) {
		second := strings.Replace(good, `"id":"a"`, `"id":"b"`, 1)
		arr := strings.TrimSuffix(strings.TrimPrefix(second, `{"entries":`), "}")
		fsys := fstest.MapFS{"45-z.json": {Data: []byte(arr)}, "10-x.json": {Data: []byte(good)}}
		c, err := Load(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if c.Entries[0].ID != "a" || c.Entries[1].ID != "b" || c.Entries[1].File != "45-z.json" {
			t.Errorf("order: %s %s", c.Entries[0].ID, c.Entries[1].ID)
		}
	})
}

// TestEnhancedRegistryCovered: every enumerated code of the registry, in
// each class it can occur in, gets an entry made for it (not a class
// fallback) and its registry name.
func TestEnhancedRegistryCovered(t *testing.T) {
	c := mustCatalog(t)
	defs := EnhancedRegistry()
	if len(defs) < 75 {
		t.Fatalf("registry has %d codes", len(defs))
	}
	for _, d := range defs {
		for _, class := range []string{"4", "5"} {
			code := class + strings.TrimPrefix(d.Code, "X")
			e, _, _ := c.Match(StageUnknown, 0, code, "")
			if e == nil || (!strings.HasPrefix(e.File, "70-") && !strings.HasPrefix(e.File, "1")) {
				t.Errorf("%s: no registry entry (got %v)", code, e)
				continue
			}
			ex := c.Explain(StageUnknown, 0, code, "")
			if ex.EnhancedName != d.Name {
				t.Errorf("%s: EnhancedName %q, want %q", code, ex.EnhancedName, d.Name)
			}
			if ex.Permanent != (class == "5") {
				t.Errorf("%s: Permanent = %v", code, ex.Permanent)
			}
		}
	}
}

// TestBasicCodesCovered: every reply code of RFC 5321 §4.2.2/4.2.3 (plus
// 530/535/534/538 of RFC 4954 and 521/556 of RFC 7504) has its own entry,
// and any other code falls back on its class.
func TestBasicCodesCovered(t *testing.T) {
	c := mustCatalog(t)
	codes := []int{211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 432, 450, 451, 452, 454, 455,
		500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556}
	for _, code := range codes {
		e, _, _ := c.Match(StageUnknown, code, "", "")
		if e == nil || !strings.HasPrefix(e.File, "80-") {
			t.Errorf("%d: no basic-code entry (got %v)", code, e)
		}
	}
	for _, code := range []int{299, 399, 459, 599} {
		e, _, _ := c.Match(StageUnknown, code, "", "")
		if e == nil || !strings.HasPrefix(e.File, "90-") {
			t.Errorf("%d: no class fallback (got %v)", code, e)
		}
	}
	if e, _, _ := c.Match(StageUnknown, 0, "", "zzz qqq"); e == nil {
		t.Error("uncoded unknown text matches nothing")
	}
}

func TestExplainBehaviour(t *testing.T) {
	tests := []struct {
		name                    string
		stage                   Stage
		code                    int
		enhanced, text          string
		wantCause, wantReason   string
		wantPermanent           bool
		wantCode                int
		wantEnhanced, wantMatch string
	}{
		{name: "temporary class wins over entry", stage: StageRCPT, code: 452, enhanced: "4.2.2",
			text: "The email account that you tried to reach is over quota.", wantCause: "recipient.mailbox-full",
			wantReason: "mailboxfull", wantCode: 452, wantEnhanced: "4.2.2"},
		{name: "same cause permanent", stage: StageRCPT, code: 552, enhanced: "5.2.2",
			text: "The email account that you tried to reach is over quota.", wantCause: "recipient.mailbox-full",
			wantReason: "mailboxfull", wantPermanent: true, wantCode: 552, wantEnhanced: "5.2.2"},
		{name: "multi-line reply with repeated prefixes", stage: StageDATA, code: 550, enhanced: "5.7.26",
			text:      "550-5.7.26 Unauthenticated email from example.com is not accepted due to\n550-5.7.26 domain's DMARC policy. Please contact the administrator of\n550 5.7.26 example.com domain.",
			wantCause: "auth.dmarc-fail", wantReason: "authfailure", wantPermanent: true, wantCode: 550, wantEnhanced: "5.7.26"},
		{name: "codes taken from the text", stage: StageUnknown,
			text:      "550 5.1.1 The email account that you tried to reach does not exist.",
			wantCause: "recipient.unknown", wantReason: "userunknown", wantPermanent: true, wantCode: 550, wantEnhanced: "5.1.1"},
		{name: "class mismatch drops enhanced", stage: StageRCPT, code: 450, enhanced: "5.1.1", text: "",
			wantCause: "basic.450", wantReason: "systemerror", wantCode: 450},
		{name: "bounce body line without codes", stage: StageUnknown, text: "mailbox full",
			wantCause: "recipient.mailbox-full", wantReason: "mailboxfull"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := Explain(tt.stage, tt.code, tt.enhanced, tt.text)
			if ex.Cause != tt.wantCause || ex.Reason != tt.wantReason || ex.Permanent != tt.wantPermanent ||
				ex.Code != tt.wantCode || ex.EnhancedCode != tt.wantEnhanced {
				t.Errorf("got cause %s reason %s permanent %v code %d enhanced %q (entry %s)",
					ex.Cause, ex.Reason, ex.Permanent, ex.Code, ex.EnhancedCode, ex.Entry)
			}
			if ex.Summary == "" || ex.Fix == "" {
				t.Errorf("empty summary or fix: %+v", ex)
			}
		})
	}
}

func TestExplainCaptures(t *testing.T) {
	ex := Explain(StageRCPT, 554, "5.7.1", "Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7")
	if ex.Captures["zone"] != "zen.spamhaus.org" || ex.Captures["ip"] != "192.0.2.7" {
		t.Errorf("captures = %v (entry %s)", ex.Captures, ex.Entry)
	}
	if !strings.Contains(ex.Summary, "zen.spamhaus.org") {
		t.Errorf("summary does not name the zone: %q", ex.Summary)
	}
	if ex.Reason != "blocked" || ex.ActionBy != ActionSenderAdmin {
		t.Errorf("reason %s action %s", ex.Reason, ex.ActionBy)
	}
}

func TestStageRules(t *testing.T) {
	// A 554 greeting refuses the client; the same code after DATA does not.
	connect := Explain(StageConnect, 554, "", "")
	data := Explain(StageDATA, 554, "", "")
	if connect.Cause == data.Cause {
		t.Errorf("554 at connect and after DATA share cause %s", connect.Cause)
	}
	if connect.Reason != "blocked" {
		t.Errorf("554 at connect: reason %s", connect.Reason)
	}
	// Pasted text without a stage still gets the code's general meaning.
	if u := Explain(StageUnknown, 554, "", ""); u.Cause != "basic.554" {
		t.Errorf("554 unknown stage: %s", u.Cause)
	}
}

func BenchmarkExplain(b *testing.B) {
	c := mustCatalog(b)
	replies := []Example{}
	for _, e := range c.Entries {
		replies = append(replies, e.Examples...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := replies[i%len(replies)]
		c.Explain(x.Stage, x.Code, x.Enhanced, x.Text)
	}
}

func TestExplainOddInput(t *testing.T) {
	long := strings.Repeat("550-5.7.1 blah ", 20000)
	for _, in := range []struct {
		code           int
		enhanced, text string
	}{
		{-1, "", ""}, {999, "9.9.9", "x"}, {0, "", ""}, {550, "5.7", "\x00\xff"}, {421, "", long}, {0, "5.999.999", ""},
	} {
		ex := Explain(Stage("bogus"), in.code, in.enhanced, in.text)
		if ex.Cause == "" || ex.Reason == "" || ex.Summary == "" {
			t.Errorf("Explain(%d, %q, %.20q) = %+v", in.code, in.enhanced, in.text, ex)
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	tests := map[string]string{
		`User unknown in local recipient table`: "user unknown in local recipient table",
		`blocked using (?P<zone>[a-z0-9.]+)`:    "blocked using ",
		`(?:HELO|EHLO).{0,40}rejected`:          "rejected",
		`no such (?:user|mailbox)`:              "no such ",
		`spam|virus`:                            "",
		`\bDMARC\b`:                             "dmarc",
		`(?:abc)?`:                              "",
		`Сертификат .{0,40}недействителен`: "", // not ASCII: no prefilter
		`unroute?able address`:  "able address",
		`\[(?P<ts>TSS?\d{2})\]`: "ts",
	}
	for in, want := range tests {
		if got := requiredLiteral(in); got != want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPrefilterIsExact: the literal prefilter and the lower-case patterns
// used on ASCII text never change which entry wins, on every example, near
// miss and seed reply (the other path is the plain case-folding one).
func TestPrefilterIsExact(t *testing.T) {
	c := mustCatalog(t)
	inputs := everyKnownReply(t, c)
	first := func(r reply) string {
		for _, e := range c.Entries {
			if ok, _, _ := e.match(&r, false); ok {
				return e.ID
			}
		}
		return ""
	}
	for _, x := range inputs {
		r := prepareReply(x.Stage, x.Code, x.Enhanced, x.Text)
		with := first(r)
		r.foldOnly = true
		if without := first(r); with != without {
			t.Errorf("%+v: %s with the prefilter, %s without", x, with, without)
		}
	}
}

// everyKnownReply is every example and near miss of the catalog and every
// reply of the seed documents.
func everyKnownReply(t *testing.T, c *Catalog) []Example {
	var inputs []Example
	for _, e := range c.Entries {
		inputs = append(inputs, e.Examples...)
		inputs = append(inputs, e.NearMiss...)
	}
	for _, r := range loadSeedReplies(t) {
		inputs = append(inputs, Example{r.stage, r.code, r.enhanced, r.text})
	}
	return inputs
}

func TestNormalizeReplyText(t *testing.T) {
	tests := []struct {
		in, want string
		code     int
		enhanced string
	}{
		{"550-5.7.26 Unauthenticated email from\r\n550-5.7.26 example.com is not\n550 5.7.26 accepted.", "Unauthenticated email from example.com is not accepted.", 550, "5.7.26"},
		{"554 554 5.7.0 Header error (state 18).", "Header error (state 18).", 554, "5.7.0"},
		{"554 (#5.3.0) Virus discovered", "Virus discovered", 554, "5.3.0"},
		{"#554 5.7.1: The message was block", "The message was block", 554, "5.7.1"},
		{"550-5.7.1 [192.0.2.1] does not have a PTR 550-5.7.1 record setup", "[192.0.2.1] does not have a PTR record setup", 550, "5.7.1"},
		{"550 5.7.1 text 550 5.7.1 more", "text more", 550, "5.7.1"},
		{"mailbox full", "mailbox full", 0, ""},
		{"4.16.55.1 not an enhanced code", "4.16.55.1 not an enhanced code", 0, ""},
		{"2500 is not a code", "2500 is not a code", 0, ""},
	}
	for _, tt := range tests {
		got, code, enh := normalizeReplyText(tt.in)
		if got != tt.want || code != tt.code || enh != tt.enhanced {
			t.Errorf("normalizeReplyText(%q) = %q, %d, %q; want %q, %d, %q", tt.in, got, code, enh, tt.want, tt.code, tt.enhanced)
		}
	}
}

// TestSourcesAreDocumentation: every entry names the documentation or the
// RFC it comes from — never a sample message of the bounce corpus (a rule
// written for one sample does not hold on mail nobody has seen).
func TestSourcesAreDocumentation(t *testing.T) {
	sample := regexp.MustCompile(`(?i)\.eml\b|\b(?:lhost|rhost|rfc3464|rfc3834|arf)-[a-z0-9]*`)
	for _, e := range mustCatalog(t).Entries {
		if sample.MatchString(e.Source) {
			t.Errorf("%s (%s): source names a sample, not documentation: %q", e.ID, e.File, e.Source)
		}
	}
}
