//go:build windows

package platform

import (
	"fmt"
	"os"
	"syscall"
)

// OpenFileID names the file f is open on: volume serial number and file
// index in hex, the Windows counterpart of device and inode (see the unix
// version); "" when unknown.
func OpenFileID(f *os.File) string {
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &d); err != nil {
		return ""
	}
	return fmt.Sprintf("%x.%x%08x", d.VolumeSerialNumber, d.FileIndexHigh, d.FileIndexLow)
}
