// Package atomicfile writes a file so that a reader sees either its old
// content or the whole new content, never a part: the data goes to a
// temporary file in the same directory, is synced to disk, and is renamed
// over the target (rename(2) replaces a directory entry atomically within
// one file system, POSIX.1-2017 rename()). A process killed while writing
// leaves the old file in place and, at worst, a stray ".NAME.tmp-*" file
// beside it.
//
// node_exporter's textfile collector asks for its *.prom files to be
// written this way; mxray also keeps its --state file and a shard's results
// file (which a batch engine collects) so. Write suits content made at
// once; Create, Commit and Abort suit a stream written over a long run.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a pending write of a file: nothing appears at the target until
// Commit.
type File struct {
	*os.File
	path string
	perm os.FileMode
	done bool
}

// beforeRename runs between the complete write and the rename; tests set
// it to inject a failure at that point.
var beforeRename = func(tmp string) error { return nil }

// Create starts writing path; Commit gives the file mode 0644 (the result
// is meant to be read by collectors).
func Create(path string) (*File, error) { return CreateMode(path, 0o644) }

// CreateMode is Create with the permissions the file gets on Commit.
func CreateMode(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path, perm: perm}, nil
}

// Commit makes the data durable, sets the permissions and renames the
// temporary file to the target. On an error the target keeps its old
// content and the temporary file is removed.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	err := f.Chmod(f.perm)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = beforeRename(f.Name())
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	syncDir(filepath.Dir(f.path))
	return nil
}

// Abort removes the temporary file; the target is left as it was. It is
// harmless after Commit or a second Abort.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// Write writes path with what write produces, atomically, with the given
// permissions. On any error path keeps its old content and the temporary
// file is removed.
func Write(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := CreateMode(path, perm)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// syncDir makes the rename itself durable; a file system that cannot sync
// a directory loses nothing but that guarantee, so errors are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
