//go:build !windows

package folders

import "os"

// removeAt removes rel (below r; abs is the same file by full path).
func removeAt(r *os.Root, rel, abs string) error { return r.Remove(rel) }
