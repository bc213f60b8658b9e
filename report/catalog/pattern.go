package catalog

// Text patterns, compiled twice. Entries are written case-insensitively
// ("(?i)" is implied), but Go's case folding is the slowest part of a
// regular expression match: every rune is compared with its folds. So each
// pattern also gets a form whose ASCII literals are lower case and match
// without folding, used on the reply's text with its ASCII letters in lower
// case (which keeps every byte offset, so captures are cut from the
// original text at the same positions). Character classes were expanded to
// every case by the parser, and literals with other letters keep their
// folding, so the two forms agree on any text — except text holding one of
// the two runes that fold to an ASCII letter (the Kelvin sign, the long s),
// which uses the folding form.
//
// Each pattern also carries the literals one of which every match must
// contain: a pattern whose literals are all absent from the reply is not
// run at all. The catalog has hundreds of patterns and a reply matches few.

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textPattern is one compiled text pattern of an entry.
type textPattern struct {
	fold  *regexp.Regexp // "(?i)" + the pattern: for text that is not ASCII
	lower *regexp.Regexp // literals in lower case, no folding: for ASCII text in lower case
	lits  []string       // any match contains one of these (see mayMatch); nil: no prefilter
	wide  []bool         // per literal: it has characters outside ASCII
	// litIDs numbers each ASCII literal in the catalog's literalIndex
	// (-1: not indexed).
	litIDs []int32
}

func compilePattern(p string) (textPattern, error) {
	fold, err := regexp.Compile("(?i)" + p)
	if err != nil {
		return textPattern{}, err
	}
	tp := textPattern{fold: fold, lower: fold}
	tree, err := syntax.Parse(p, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return textPattern{}, err
	}
	tp.lits = literalSet(tree.Simplify())
	for _, l := range tp.lits {
		tp.wide = append(tp.wide, !asciiRunes([]rune(l)))
	}
	lowerLiterals(tree)
	if lower, err := regexp.Compile(tree.String()); err == nil {
		tp.lower = lower
	}
	return tp, nil
}

// lowerLiterals turns case-folded ASCII literals into lower-case literals
// that match exactly. Character classes were already expanded to both
// cases by the parser and stay as they are.
func lowerLiterals(re *syntax.Regexp) {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 && asciiRunes(re.Rune) {
		for i, r := range re.Rune {
			if 'A' <= r && r <= 'Z' {
				re.Rune[i] = r + 'a' - 'A'
			}
		}
		re.Flags &^= syntax.FoldCase
	}
	for _, s := range re.Sub {
		lowerLiterals(s)
	}
}

func asciiRunes(rs []rune) bool {
	for _, r := range rs {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// find returns the match of the pattern in the prepared reply: the
// submatch index pairs (nil: no match).
func (p textPattern) find(r *reply) []int {
	if r.foldOnly {
		return p.fold.FindStringSubmatchIndex(r.text)
	}
	if !p.mayMatch(r) {
		return nil
	}
	return p.lower.FindStringSubmatchIndex(r.lower)
}

// matches is find without the positions.
func (p textPattern) matches(r *reply) bool {
	if r.foldOnly {
		return p.fold.MatchString(r.text)
	}
	return p.mayMatch(r) && p.lower.MatchString(r.lower)
}

// mayMatch is the prefilter: an ASCII literal must be in the lowered text;
// a literal with other characters cannot be in ASCII text, and in other
// text it may be in any case, so it does not rule the pattern out.
func (p textPattern) mayMatch(r *reply) bool {
	if p.lits == nil {
		return true
	}
	for i, l := range p.lits {
		switch {
		case p.wide[i]:
			if !r.ascii {
				return true
			}
		case r.hits != nil && i < len(p.litIDs) && p.litIDs[i] >= 0:
			if id := p.litIDs[i]; r.hits[id/64]&(1<<(id%64)) != 0 {
				return true
			}
		case strings.Contains(r.lower, l):
			return true
		}
	}
	return false
}

// literalSet returns strings one of which every match of the
// (case-folding) regexp must contain in ASCII text in lower case, or nil
// when none is known.
func literalSet(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if !asciiRunes(re.Rune) {
			// A literal with other characters can only be found in text
			// that is not ASCII, where the prefilter is not used — unless
			// one of its runes folds to an ASCII letter (the Kelvin sign
			// to k, the long s to s).
			for _, r := range re.Rune {
				if r >= utf8.RuneSelf && foldsToASCII(r) {
					return nil
				}
			}
			return []string{string(re.Rune)}
		}
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return literalSet(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalSet(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part of a concatenation is required: take the part whose
		// shortest literal is longest, the most selective test.
		var best []string
		for _, sub := range re.Sub {
			if s := literalSet(sub); s != nil && shortest(s) > shortest(best) {
				best = s
			}
		}
		return best
	case syntax.OpAlternate:
		// One of the branches matches: the union, if every branch has one.
		var all []string
		for _, sub := range re.Sub {
			s := literalSet(sub)
			if s == nil {
				return nil
			}
			all = append(all, s...)
		}
		return all
	}
	return nil
}

func foldsToASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return true
		}
	}
	return false
}

func shortest(s []string) int {
	if len(s) == 0 {
		return 0
	}
	n := len(s[0])
	for _, x := range s[1:] {
		n = min(n, len(x))
	}
	return n
}

// requiredLiteral is the longest single literal every match contains, or
// "" (kept for the tests that document the prefilter).
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return ""
	}
	if s := literalSet(re.Simplify()); len(s) == 1 && asciiRunes([]rune(s[0])) {
		return s[0]
	}
	return ""
}

// literalIndex finds, in one pass over a reply, which of the catalog's
// prefilter literals it contains: each position of the lowered text is
// looked up by its two bytes, and only the literals starting with them are
// compared. The catalog has some 700 literals; a reply a few hundred bytes.
// The answer is the same as strings.Contains for each (TestPrefilterIsExact).
type literalIndex struct {
	n      int
	bigram map[uint16][]indexedLiteral
	single map[byte]int32 // one-byte literals
}

type indexedLiteral struct {
	id  int32
	lit string
}

// buildLiteralIndex numbers the ASCII literals of every pattern and
// records each pattern's numbers.
func buildLiteralIndex(entries []*Entry) *literalIndex {
	x := &literalIndex{bigram: map[uint16][]indexedLiteral{}, single: map[byte]int32{}}
	ids := map[string]int32{}
	number := func(l string) int32 {
		if id, ok := ids[l]; ok {
			return id
		}
		id := int32(x.n)
		x.n++
		ids[l] = id
		if len(l) == 1 {
			x.single[l[0]] = id
		} else {
			k := uint16(l[0])<<8 | uint16(l[1])
			x.bigram[k] = append(x.bigram[k], indexedLiteral{id, l})
		}
		return id
	}
	for _, e := range entries {
		for _, ps := range [][]textPattern{e.patterns, e.exclude} {
			for i := range ps {
				ps[i].litIDs = make([]int32, len(ps[i].lits))
				for j, l := range ps[i].lits {
					ps[i].litIDs[j] = -1
					if !ps[i].wide[j] && l != "" {
						ps[i].litIDs[j] = number(l)
					}
				}
			}
		}
	}
	return x
}

// scan returns the set of literals the lowered text contains.
func (x *literalIndex) scan(lower string) []uint64 {
	hits := make([]uint64, (x.n+63)/64)
	for i := 0; i < len(lower); i++ {
		if id, ok := x.single[lower[i]]; ok {
			hits[id/64] |= 1 << (id % 64)
		}
		if i+1 >= len(lower) {
			break
		}
		for _, l := range x.bigram[uint16(lower[i])<<8|uint16(lower[i+1])] {
			if hits[l.id/64]&(1<<(l.id%64)) == 0 && strings.HasPrefix(lower[i:], l.lit) {
				hits[l.id/64] |= 1 << (l.id % 64)
			}
		}
	}
	return hits
}
