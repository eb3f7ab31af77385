//go:build windows

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/debug"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"imapd/internal/spawn"
	"imapd/logging"
)

// Event ids in the event log (EventCreate.exe's message file takes 1-1000).
const (
	eventInfo  = 1
	eventError = 2
)

// runDefault runs as a service with -service or when svc.IsWindowsService
// says the service control manager started us, else in the foreground.
func runDefault(o options, stderr io.Writer) error {
	if ok, err := svc.IsWindowsService(); o.svc || err == nil && ok {
		return runService(o)
	}
	return runForeground(o, stderr)
}

// handler runs imapdsvc as a service (or, with debug, in a console).
type handler struct {
	o      options
	extra  sink
	stderr io.Writer // debug: where the listening line goes
}

// Execute is the service's life: start, run until Stop or Shutdown, stop.
func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	a, err := start(h.o, h.extra)
	if err != nil {
		if h.extra != nil {
			h.extra.Errorf("imapdsvc could not start: %v", err)
		}
		return true, 1
	}
	if h.stderr != nil {
		fmt.Fprintf(h.stderr, "imapdsvc: listening on %s\n", a.ln.Addr())
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case c := <-r:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				hint := h.o.grace + spawn.DefaultCutWait + spawn.FlushWait + 5*time.Second
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(hint / time.Millisecond)}
				why := "service stop"
				if c.Cmd == svc.Shutdown {
					why = "system shutdown"
				}
				a.stop(why)
				return false, 0
			}
		case err := <-a.done:
			a.done <- err
			a.stop("listener failed")
			return true, 2
		}
	}
}

// eventSink writes errors, start and stop to the Windows event log.
type eventSink struct{ l *eventlog.Log }

func (e eventSink) Errorf(format string, args ...any) {
	e.l.Error(eventError, fmt.Sprintf(format, args...))
}
func (e eventSink) Infof(format string, args ...any) {}
func (e eventSink) Noticef(format string, args ...any) {
	e.l.Info(eventInfo, fmt.Sprintf(format, args...))
}

// runService runs under the service control manager.
func runService(o options) error {
	var extra sink
	if l, err := eventlog.Open(serviceName); err == nil {
		defer l.Close()
		extra = eventSink{l}
	}
	if err := svc.Run(serviceName, &handler{o: o, extra: extra}); err != nil {
		return fmt.Errorf("run service %s: %w", serviceName, err)
	}
	return nil
}

// runDebug runs the service handler in the console; Ctrl-C stops it.
func runDebug(o options, stderr io.Writer) error {
	h := &handler{o: o, extra: logging.New(stderr, logging.LevelDebug), stderr: stderr}
	if err := debug.Run(serviceName, h); err != nil {
		return fmt.Errorf("debug: %w", err)
	}
	return nil
}

// install registers the service (automatic start, this executable, the
// given flags) and the event log source.
func install(o options) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: find imapdsvc.exe: %w", err)
	}
	for _, f := range []string{o.imapd, o.config} {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(os.Stderr, "imapdsvc: install: warning: %v\n", err)
		}
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("install: connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return fmt.Errorf("install: service %s is already installed (imapdsvc remove first)", serviceName)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName: serviceDisplayName,
		Description: serviceDescription,
		StartType:   mgr.StartAutomatic,
	}, o.serviceArgs()...)
	if err != nil {
		return fmt.Errorf("install: create service %s: %w", serviceName, err)
	}
	defer s.Close()
	err = eventlog.InstallAsEventCreate(serviceName, eventlog.Error|eventlog.Warning|eventlog.Info)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		s.Delete()
		return fmt.Errorf("install: event log source %s: %w", serviceName, err)
	}
	return nil
}

// remove deletes the service and the event log source.
func remove() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("remove: connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("remove: service %s: %w", serviceName, err)
	}
	defer s.Close()
	if err := s.Delete(); err != nil {
		return fmt.Errorf("remove: delete service %s: %w", serviceName, err)
	}
	if err := eventlog.Remove(serviceName); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return fmt.Errorf("remove: event log source %s: %w", serviceName, err)
	}
	return nil
}

func openService() (*mgr.Mgr, *mgr.Service, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("connect to the service manager: %w", err)
	}
	s, err := m.OpenService(serviceName)
	if err != nil {
		m.Disconnect()
		return nil, nil, fmt.Errorf("service %s: %w", serviceName, err)
	}
	return m, s, nil
}

// startService asks the service manager to start the service.
func startService() error {
	m, s, err := openService()
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer m.Disconnect()
	defer s.Close()
	if err := s.Start(); err != nil {
		return fmt.Errorf("start service %s: %w", serviceName, err)
	}
	return nil
}

// stopTimeout bounds how long `imapdsvc stop` waits for the service to
// report it has stopped.
const stopTimeout = time.Minute

// stopService asks the service to stop and waits until it has.
func stopService() error {
	m, s, err := openService()
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	defer m.Disconnect()
	defer s.Close()
	st, err := s.Control(svc.Stop)
	if err != nil {
		return fmt.Errorf("stop service %s: %w", serviceName, err)
	}
	deadline := time.Now().Add(stopTimeout)
	for st.State != svc.Stopped {
		if time.Now().After(deadline) {
			return fmt.Errorf("stop service %s: still not stopped after %s", serviceName, stopTimeout)
		}
		time.Sleep(300 * time.Millisecond) // the SCM has no wait call: poll, bounded
		if st, err = s.Query(); err != nil {
			return fmt.Errorf("stop service %s: query: %w", serviceName, err)
		}
	}
	return nil
}
