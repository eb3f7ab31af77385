package mbox

import (
	"fmt"
	"os"
	"syscall"
)

// fileID identifies the file f is open on: volume serial number and file
// index, the windows counterpart of device and inode.
func fileID(f *os.File) string {
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &d); err != nil {
		return ""
	}
	return fmt.Sprintf("%x.%x%08x", d.VolumeSerialNumber, d.FileIndexHigh, d.FileIndexLow)
}
