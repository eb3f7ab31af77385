//go:build !windows

package session

import "syscall"

// noSpace are the errors of a full file system or an exhausted disk quota.
var noSpace = []error{syscall.ENOSPC, syscall.EDQUOT}
