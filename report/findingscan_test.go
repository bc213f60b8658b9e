package report

// A scan of mxray's source for the finding ids it can produce, so that the
// catalogue (findings.tsv, docs/findings.md) cannot fall behind the code:
// an id added without its entry fails TestFindingCatalogueMatchesCode.
//
// The scan parses every non-test Go file of the module and collects the
// string literals used as finding ids:
//   - the ID of a report.Finding composite literal (also elided, inside a
//     []report.Finding), with the literal Severity beside it;
//   - X.ID = "literal" and assignments to a variable named id;
//   - a call's literal argument followed by a report.<Severity> argument
//     (probe's f("smtp.x", report.Warning, ...) helper).
// A literal joined with + to something else is a prefix or suffix pattern.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var findingIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+(-[a-z0-9]+)*$`)

// scannedID is one id (or pattern) found in the source.
type scannedID struct {
	id       string // "spf.ok"; a pattern keeps the literal part: "dmarc.weak-" (prefix) or ".internal-error" (suffix)
	prefix   bool
	suffix   bool
	sevs     map[Severity]bool // literal severities seen with it
	position string
}

type idScan struct {
	fset  *token.FileSet
	found map[string]*scannedID
	bad   []string // literals in id position that are not ids
}

func scanFindingIDs(t *testing.T, root string) *idScan {
	t.Helper()
	s := &idScan{fset: token.NewFileSet(), found: map[string]*scannedID{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(s.fset, path, src, 0)
		if err != nil {
			return err
		}
		s.file(f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *idScan) file(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CompositeLit:
			if isFindingType(x.Type) {
				s.findingLit(x)
			}
			if at, ok := x.Type.(*ast.ArrayType); ok && isFindingType(at.Elt) {
				for _, e := range x.Elts {
					if cl, ok := e.(*ast.CompositeLit); ok && cl.Type == nil {
						s.findingLit(cl)
					}
				}
			}
		case *ast.AssignStmt:
			s.assign(x)
		case *ast.CallExpr:
			s.call(x)
		}
		return true
	})
}

func isFindingType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name == "Finding"
	case *ast.SelectorExpr:
		return t.Sel.Name == "Finding"
	}
	return false
}

// findingLit records the ID of a Finding literal with its Severity.
func (s *idScan) findingLit(cl *ast.CompositeLit) {
	var id ast.Expr
	var sev *Severity
	for _, e := range cl.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch k, _ := kv.Key.(*ast.Ident); {
		case k == nil:
		case k.Name == "ID":
			id = kv.Value
		case k.Name == "Severity":
			sev = severityOf(kv.Value)
		}
	}
	if id != nil {
		s.record(id, sev, true)
	}
}

// assign records X.ID = "..." and id := "..." (with a parallel severity).
func (s *idScan) assign(a *ast.AssignStmt) {
	if len(a.Lhs) != len(a.Rhs) {
		return
	}
	var sev *Severity
	for _, r := range a.Rhs {
		if v := severityOf(r); v != nil {
			sev = v
		}
	}
	for i, l := range a.Lhs {
		switch x := l.(type) {
		case *ast.SelectorExpr:
			if x.Sel.Name == "ID" {
				s.record(a.Rhs[i], sev, false)
			}
		case *ast.Ident:
			if x.Name == "id" {
				s.record(a.Rhs[i], sev, false)
			}
		}
	}
}

// call records f("smtp.x", report.Warning, ...): an id literal followed by
// a severity (a literal, or a variable named like one: sev, certSev); and
// strings.Replace(x.ID, "smtp.", "submission.", 1), a renamed prefix.
func (s *idScan) call(c *ast.CallExpr) {
	if s.renamedPrefix(c) {
		return
	}
	for i := 0; i+1 < len(c.Args); i++ {
		lit, ok := c.Args[i].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		if sev := severityOf(c.Args[i+1]); sev != nil {
			s.record(lit, sev, false)
		} else if id, ok := c.Args[i+1].(*ast.Ident); ok && strings.Contains(strings.ToLower(id.Name), "sev") {
			s.record(lit, nil, false)
		}
	}
}

// renamedPrefix records the new prefix of strings.Replace(x.ID, old, new, n).
func (s *idScan) renamedPrefix(c *ast.CallExpr) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || len(c.Args) < 3 || !strings.HasPrefix(sel.Sel.Name, "Replace") {
		return false
	}
	if id, ok := c.Args[0].(*ast.SelectorExpr); !ok || id.Sel.Name != "ID" {
		return false
	}
	lit, ok := c.Args[2].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return false
	}
	v, _ := strconv.Unquote(lit.Value)
	s.add(v, true, false, nil, s.fset.Position(c.Pos()).String())
	return true
}

// severityOf reads report.Warning (or Warning inside package report).
func severityOf(e ast.Expr) *Severity {
	name := ""
	switch x := e.(type) {
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok && pkg.Name == "report" {
			name = x.Sel.Name
		}
	case *ast.Ident:
		name = x.Name
	}
	for i, n := range []string{"OK", "Info", "Warning", "Failure", "Unknown"} {
		if n == name {
			sev := Severity(i)
			return &sev
		}
	}
	return nil
}

// record notes an id expression: a literal, or a literal joined with +.
// Expressions without a literal (a variable) are resolved where that
// variable is assigned. strict: in a Finding literal, where any string
// literal must be an id.
func (s *idScan) record(e ast.Expr, sev *Severity, strict bool) {
	pos := s.fset.Position(e.Pos()).String()
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return
		}
		v, _ := strconv.Unquote(x.Value)
		if !findingIDPattern.MatchString(v) {
			if strict {
				s.bad = append(s.bad, pos+": "+v)
			}
			return
		}
		s.add(v, false, false, sev, pos)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return
		}
		if lit, ok := x.X.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			s.add(v, true, false, sev, pos)
		} else if lit, ok := x.Y.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			s.add(v, false, true, sev, pos)
		}
	}
}

func (s *idScan) add(id string, prefix, suffix bool, sev *Severity, pos string) {
	k := id
	if prefix {
		k += "*"
	}
	if suffix {
		k = "*" + k
	}
	x, ok := s.found[k]
	if !ok {
		x = &scannedID{id: id, prefix: prefix, suffix: suffix, sevs: map[Severity]bool{}, position: pos}
		s.found[k] = x
	}
	if sev != nil {
		x.sevs[*sev] = true
	}
}
