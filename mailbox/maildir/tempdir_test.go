package maildir

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// tempDir is t.TempDir, but removed file by file on Windows: under Wine,
// Go's RemoveAll (handle-relative deletes with POSIX semantics) fails with
// "Invalid function", which Wine answers for that call; os.Remove
// (DeleteFile, RemoveDirectory) works.
func tempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "maildir-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// removeTree is os.RemoveAll done with os.Remove, which works under Wine.
func removeTree(dir string) error {
	var paths []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	slices.Reverse(paths) // files before their directories
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}
