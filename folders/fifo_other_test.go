//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package folders

import "errors"

func mkfifo(path string) error { return errors.New("no fifos on this OS") }
