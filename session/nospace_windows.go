package session

import "syscall"

// noSpace are the errors of a full disk (ERROR_DISK_FULL,
// ERROR_HANDLE_DISK_FULL) or an exhausted disk quota (ERROR_DISK_QUOTA_EXCEEDED).
var noSpace = []error{syscall.Errno(112), syscall.Errno(39), syscall.Errno(1295)}
