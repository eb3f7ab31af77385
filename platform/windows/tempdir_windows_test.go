package windows

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tempDir is t.TempDir for Wine: Go's os.RemoveAll (which t.TempDir's
// cleanup uses) deletes with FILE_DISPOSITION_INFORMATION_EX, which Wine 8
// answers with STATUS_NOT_IMPLEMENTED ("Invalid function") and Go does not
// fall back from; os.Remove (DeleteFileW / RemoveDirectoryW) works. So the
// cleanup removes the tree bottom-up with os.Remove.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "imapd-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
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
	})
	return dir
}
