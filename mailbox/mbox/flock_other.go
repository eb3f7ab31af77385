//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package mbox

import "os"

// haveFlock is false here. On windows byte-range locks are mandatory, so
// locking the mailbox itself would stop the POP3/SMTP servers from reading
// it: we rely on the <mailbox>.lock dot-lock alone.
const haveFlock = false

func flockTry(f *os.File, exclusive bool) (bool, error) { return true, nil }

func flockUnlock(f *os.File) error { return nil }
