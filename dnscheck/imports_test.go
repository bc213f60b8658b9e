package dnscheck

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayoutImports keeps the layout honest: a DNS standard's package
// imports dnscheck for the resolver and never the check assembly, the SMTP
// probe or the command; report stays a leaf that imports nothing of mxray
// but internal helpers.
func TestLayoutImports(t *testing.T) {
	const module = "github.com/mxray/mxray/"
	rules := []struct {
		dir       string
		recursive bool
		forbidden []string // import path prefixes below the module
		onlyFrom  []string // if set, mxray imports must start with one of these
	}{
		{dir: ".", recursive: true, forbidden: []string{"check", "probe", "cmd"}},
		{dir: "../report", onlyFrom: []string{"internal/"}},
	}
	for _, r := range rules {
		var dirs []string
		if r.recursive {
			filepath.WalkDir(r.dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && d.Name() != "testdata" {
					dirs = append(dirs, p)
				}
				return err
			})
		} else {
			dirs = []string{r.dir}
		}
		for _, d := range dirs {
			pkg, err := build.ImportDir(d, 0)
			if err != nil {
				continue // a folder without Go files
			}
			for _, imp := range pkg.Imports {
				rel, ok := strings.CutPrefix(imp, module)
				if !ok {
					continue
				}
				for _, f := range r.forbidden {
					if rel == f || strings.HasPrefix(rel, f+"/") {
						t.Errorf("%s imports %s", d, imp)
					}
				}
				if r.onlyFrom != nil {
					allowed := false
					for _, a := range r.onlyFrom {
						allowed = allowed || strings.HasPrefix(rel, a)
					}
					if !allowed {
						t.Errorf("%s imports %s; report must stay a leaf", d, imp)
					}
				}
			}
		}
	}
}
