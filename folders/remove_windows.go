//go:build windows

package folders

import (
	"errors"
	"os"
	"syscall"
)

// removeAt removes rel (below r; abs is the same file by full path).
// os.Root.Remove needs FileDispositionInformationEx, which Wine (used to
// test the Windows build) does not implement: it answers
// ERROR_INVALID_FUNCTION, and only then is the checked full path removed
// instead. Real Windows never takes that branch.
func removeAt(r *os.Root, rel, abs string) error {
	err := r.Remove(rel)
	if errors.Is(err, syscall.Errno(1)) { // ERROR_INVALID_FUNCTION
		return os.Remove(abs)
	}
	return err
}
