package mbox

import (
	"os"

	"imapd/platform"
)

// fileID identifies the file f is open on (platform.OpenFileID): a journal
// records it and is applied only to that file; "" (no identity known)
// matches by size only.
func fileID(f *os.File) string { return platform.OpenFileID(f) }
