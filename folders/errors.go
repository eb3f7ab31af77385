package folders

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/emersion/go-imap/v2"
)

// Error is a refusal or failure the session can send as is:
// "NO [Code] Text" (no brackets when Code is empty). Text names mailboxes
// the way the client wrote them. Err, when set, is the underlying system
// error, for the log (it may contain server paths).
type Error struct {
	Code imap.ResponseCode
	Text string
	Err  error
}

// Error returns Text.
func (e *Error) Error() string { return e.Text }

// Unwrap returns the underlying system error, if any.
func (e *Error) Unwrap() error { return e.Err }

// IMAP returns the error as a go-imap NO response.
func (e *Error) IMAP() *imap.Error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: e.Code, Text: e.Text}
}

// ErrInboxRename is returned by Rename when the source is INBOX. RFC 3501
// says renaming INBOX moves its messages into a new mailbox and leaves INBOX
// empty; that needs the message store, so the session does it (Create the
// target, move the messages). Test with errors.Is.
var ErrInboxRename = &Error{
	Code: imap.ResponseCodeCannot,
	Text: "Renaming INBOX moves its messages; the session must do it",
}

func newError(code imap.ResponseCode, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Text: fmt.Sprintf(format, args...), Err: cause}
}

// sysError turns a failed system call into an *Error. what is the
// client-visible action ("Can't create a/b"); the system error's own text
// (without the path) follows it.
func sysError(what string, err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	reason := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		reason = pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		reason = le.Err.Error()
	}
	code := imap.ResponseCode("")
	switch {
	case errors.Is(err, fs.ErrPermission):
		code = imap.ResponseCodeNoPerm
	case errors.Is(err, fs.ErrNotExist):
		code = imap.ResponseCodeNonExistent
	case errors.Is(err, fs.ErrExist):
		code = imap.ResponseCodeAlreadyExists
	}
	return &Error{Code: code, Text: what + ": " + reason, Err: err}
}
