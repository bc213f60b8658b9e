// Package atomicfile writes a file so that readers see either the old
// content or the whole new one, never a part: the data goes to a temporary
// file in the same directory, which is synced and renamed over the target
// on Commit (rename(2) replaces the name atomically within a file system,
// POSIX.1-2017 rename()). node_exporter's textfile collector, a state file
// and a shard's results file a batch engine collects all need this.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// File is a pending write of a file.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing path. Nothing appears at path until Commit.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs the data and renames the temporary file to the target.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // CreateTemp makes 0600; the result is meant to be read by collectors
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort removes the temporary file; the target is left as it was. It is
// harmless after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}
