//go:build unix

package unix

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// LetGoSignal is UW's kiss of death: a process holding a session lock that
// receives it saves the mailbox, says "* BYE Killed (lost mailbox lock)"
// and lets go.
const LetGoSignal = syscall.SIGUSR2

// NotifyLetGo relays LetGoSignal to ch (instead of it killing the process).
func NotifyLetGo(ch chan<- os.Signal) { signal.Notify(ch, LetGoSignal) }

// SignalLetGo asks the holder of a session lock to let go. It refuses a
// PID that is ours, that the OS says does not hold the lock, or, when we
// run as root, that the OS cannot vouch for (the lock file is writable by
// anybody).
func SignalLetGo(h Holder) error {
	switch {
	case h.PID <= 0:
		return fmt.Errorf("the lock holds no process ID")
	case h.PID == os.Getpid():
		return fmt.Errorf("the lock names this process")
	case h.Verdict == DoesNotHold:
		return fmt.Errorf("process %d does not hold the lock", h.PID)
	case h.Verdict == Unverified && os.Geteuid() == 0:
		return fmt.Errorf("process %d cannot be verified as the holder, and root does not signal on trust", h.PID)
	}
	if err := syscall.Kill(h.PID, LetGoSignal); err != nil {
		return fmt.Errorf("signal process %d: %w", h.PID, err)
	}
	return nil
}
