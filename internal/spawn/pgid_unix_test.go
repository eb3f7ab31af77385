//go:build unix

package spawn

import (
	"strconv"
	"syscall"
)

func pgid() string { return strconv.Itoa(syscall.Getpgrp()) }
