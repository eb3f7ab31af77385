//go:build !windows

package main

import (
	"fmt"
	"io"
	"runtime"
)

// Off Windows there is no service manager: imapdsvc always runs in the
// foreground (under systemd, a supervisor, or a test).

func runDefault(o options, stderr io.Writer) error { return runForeground(o, stderr) }

func runDebug(o options, stderr io.Writer) error { return runForeground(o, stderr) }

func install(o options) error { return notWindows("install") }

func remove() error { return notWindows("remove") }

func startService() error { return notWindows("start") }

func stopService() error { return notWindows("stop") }

func notWindows(verb string) error {
	return fmt.Errorf("%s: Windows services exist on Windows only; on %s run imapdsvc in the foreground (or imapd under inetd or with -listen)", verb, runtime.GOOS)
}
