// Package lazyre defers compiling a regular expression to its first use.
//
// The reply catalog and the bounce parsers hold many expressions. Compiled
// at package initialisation they cost every command — `mxray version`
// included — about 12 ms at start; compiled on first use they cost only the
// commands that read replies. A Regexp is safe for concurrent use, as
// regexp.Regexp is, and panics on first use if the expression is invalid,
// as regexp.MustCompile would at start; CompileAll lets a test compile every
// one made so far, so that a typo fails the tests rather than a user's run.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use.
type Regexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

var (
	mu  sync.Mutex
	all []*Regexp
)

// New returns a Regexp for expr without compiling it.
func New(expr string) *Regexp {
	r := &Regexp{expr: expr}
	mu.Lock()
	all = append(all, r)
	mu.Unlock()
	return r
}

// CompileAll compiles every Regexp made so far and returns the number
// compiled, or the first error.
func CompileAll() (int, error) {
	mu.Lock()
	rs := append([]*Regexp(nil), all...)
	mu.Unlock()
	return compileEach(rs)
}

func compileEach(rs []*Regexp) (int, error) {
	for _, r := range rs {
		if _, err := regexp.Compile(r.expr); err != nil {
			return 0, err
		}
	}
	return len(rs), nil
}

// Compiled returns the compiled expression, compiling it on the first call.
func (r *Regexp) Compiled() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.expr) })
	return r.re
}

// String returns the source text of the expression.
func (r *Regexp) String() string { return r.expr }

func (r *Regexp) MatchString(s string) bool { return r.Compiled().MatchString(s) }

func (r *Regexp) FindString(s string) string { return r.Compiled().FindString(s) }

func (r *Regexp) FindStringIndex(s string) []int { return r.Compiled().FindStringIndex(s) }

func (r *Regexp) FindIndex(b []byte) []int { return r.Compiled().FindIndex(b) }

func (r *Regexp) FindStringSubmatch(s string) []string { return r.Compiled().FindStringSubmatch(s) }

func (r *Regexp) FindStringSubmatchIndex(s string) []int {
	return r.Compiled().FindStringSubmatchIndex(s)
}

func (r *Regexp) FindAllString(s string, n int) []string { return r.Compiled().FindAllString(s, n) }

func (r *Regexp) FindAllStringIndex(s string, n int) [][]int {
	return r.Compiled().FindAllStringIndex(s, n)
}

func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.Compiled().FindAllStringSubmatch(s, n)
}

func (r *Regexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return r.Compiled().FindAllStringSubmatchIndex(s, n)
}

func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.Compiled().ReplaceAllString(src, repl)
}

func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.Compiled().ReplaceAllStringFunc(src, repl)
}

func (r *Regexp) SubexpIndex(name string) int { return r.Compiled().SubexpIndex(name) }
