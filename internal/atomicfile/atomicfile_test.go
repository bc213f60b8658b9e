package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// leftovers lists the files in dir other than name.
func leftovers(t *testing.T, dir, name string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Name() != name {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteReplacesAndSetsPermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.prom")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := Write(path, 0o644, writeString(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if l := leftovers(t, dir, "metrics.prom"); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// A failure between the complete write and the rename, and a failure of
// the writer itself, leave the old file and no temporary file.
func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := Write(path, 0o644, writeString("old")); err != nil {
		t.Fatal(err)
	}
	injected := errors.New("injected: disk gone before rename")
	beforeRename = func(tmp string) error {
		if _, err := os.Stat(tmp); err != nil {
			t.Errorf("the temporary file should be complete before the rename: %v", err)
		}
		return injected
	}
	t.Cleanup(func() { beforeRename = func(string) error { return nil } })
	if err := Write(path, 0o644, writeString("new")); !errors.Is(err, injected) {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	beforeRename = func(string) error { return nil }
	if err := Write(path, 0o644, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("writer failed") }); err == nil {
		t.Fatal("a failing writer reported success")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("content %q, want the old content", got)
	}
	if l := leftovers(t, dir, "state.json"); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestWriteIntoMissingDirectoryFails(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "no", "such", "dir", "f"), 0o644, writeString("x")); err == nil {
		t.Fatal("want an error")
	}
}
