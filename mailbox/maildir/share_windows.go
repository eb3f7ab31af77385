package maildir

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// openShared opens a file to read it and lets other programs rename and
// remove it meanwhile (FILE_SHARE_DELETE), as on unix: a session reading
// a message must not stop another one from changing its flags (a rename)
// or expunging it, nor a reader of the uid list its replacement. os.Open
// does not share delete access.
func openShared(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// busy: the error of a rename, remove or create that failed because
// another program has the file open without sharing delete access, or
// because a removed file is still open (delete pending): it goes away
// when that program closes it.
func busy(err error) bool {
	const errorSharingViolation = syscall.Errno(32)
	return errors.Is(err, errorSharingViolation) || errors.Is(err, syscall.ERROR_ACCESS_DENIED)
}

// retryBusy runs op again while it fails with busy, for up to a second.
func retryBusy(op func() error) error {
	deadline := time.Now().Add(time.Second)
	wait := time.Millisecond
	for {
		err := op()
		if err == nil || !busy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}
