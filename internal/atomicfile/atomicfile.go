// Package atomicfile writes a file so that a reader sees either its old
// content or the whole new content, never a part: the data goes to a
// temporary file in the same directory, is synced to disk, and is renamed
// over the target (rename(2) replaces a directory entry atomically within
// one file system). A process killed while writing leaves the old file in
// place and, at worst, a stray ".NAME.tmp-*" file beside it.
//
// This is how node_exporter's textfile collector asks for its *.prom files
// to be written, and how mxray keeps its --state file.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// beforeRename runs between the complete write and the rename; tests set
// it to inject a failure at that point.
var beforeRename = func(tmp string) error { return nil }

// Write writes path with what write produces, atomically, with the given
// permissions. On any error path keeps its old content and the temporary
// file is removed.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f, perm, write); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := beforeRename(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// fill writes the content, sets the permissions and makes the data
// durable before the rename makes it visible.
func fill(f *os.File, perm os.FileMode, write func(io.Writer) error) error {
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// syncDir makes the rename itself durable; a file system that cannot sync
// a directory loses nothing but that guarantee, so errors are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
