package main

import (
	"fmt"

	"imapd/logging"
)

// sink is a second destination for log events: standard error in the
// foreground, the Windows event log as a service.
type sink interface {
	Errorf(format string, args ...any)
	Infof(format string, args ...any)
}

// noticer is a sink that takes only some info events (the event log takes
// start and stop, not every connection).
type noticer interface {
	Noticef(format string, args ...any)
}

// logger writes imapdsvc.log and the extra sink. A nil *logger discards.
type logger struct {
	file  *logging.Logger
	extra sink
	level logging.Level
}

// Errorf logs an error.
func (l *logger) Errorf(format string, args ...any) {
	if l == nil {
		return
	}
	l.file.Errorf(format, args...)
	if l.extra != nil {
		l.extra.Errorf(format, args...)
	}
}

// Infof logs an event of the normal run (connections, sessions).
func (l *logger) Infof(format string, args ...any) {
	if l == nil || l.level < logging.LevelInfo {
		return
	}
	l.file.Infof(format, args...)
	if l.extra == nil {
		return
	}
	if _, ok := l.extra.(noticer); !ok {
		l.extra.Infof(format, args...)
	}
}

// Noticef logs an info event that the event log gets too (start, stop).
func (l *logger) Noticef(format string, args ...any) {
	if l == nil {
		return
	}
	if l.level >= logging.LevelInfo {
		l.file.Infof(format, args...)
	}
	switch e := l.extra.(type) {
	case nil:
	case noticer:
		e.Noticef(format, args...)
	default:
		if l.level >= logging.LevelInfo {
			e.Infof(format, args...)
		}
	}
}

// Close closes the log file.
func (l *logger) Close() {
	if l == nil {
		return
	}
	if err := l.file.Close(); err != nil && l.extra != nil {
		l.extra.Errorf("close log file: %v", fmt.Sprint(err))
	}
}
