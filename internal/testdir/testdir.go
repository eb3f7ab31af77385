// Package testdir gives tests a temporary directory that is cleaned up on
// every platform the tests run on, Wine included. Under Wine 8, Go's
// os.RemoveAll (which t.TempDir's cleanup uses) deletes with
// FILE_DISPOSITION_INFORMATION_EX, which Wine answers with
// STATUS_NOT_IMPLEMENTED ("Invalid function") and Go does not fall back
// from; os.Remove (DeleteFileW / RemoveDirectoryW) works. So the cleanup
// falls back to removing the tree bottom-up with os.Remove.
package testdir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// New makes a temporary directory removed when the test ends.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "imapd-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(t, dir) })
	return dir
}

// Remove deletes a tree, one entry at a time where os.RemoveAll cannot.
func Remove(t testing.TB, dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		paths = append(paths, p)
		return nil
	})
	slices.Reverse(paths) // children before their directory
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Errorf("clean up %s: %v", p, err)
		}
	}
}
