//go:build !windows

package logging

import "os"

// filePerm is the mode of a new log file. Group-readable: the log holds
// login names and client addresses.
const filePerm = 0o640

func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, filePerm)
}
