//go:build unix

package spawn

import (
	"strconv"

	"golang.org/x/sys/unix"
)

func pgid() string {
	id, err := unix.Getpgid(0)
	if err != nil {
		return "unknown: " + err.Error()
	}
	return strconv.Itoa(id)
}
