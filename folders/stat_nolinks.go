//go:build !unix && !windows

package folders

import "io/fs"

// links: no hard link count on this OS; the check is skipped.
func links(fi fs.FileInfo) (n uint64, ok bool) { return 0, false }
