// Package session is the IMAP backend of one connection: it implements
// go-imap v2's imapserver.Session on top of account, auth, folders and
// mailbox. One file per group of verbs, as go-imap itself is cut.
//
// Decisions where the legacy server and the RFCs leave room:
//   - Keywords match without regard to case (as in the mailbox file and
//     UW): STORE -FLAGS (junk) removes Junk.
//   - A keyword new to the session's view (its own STORE, APPEND or COPY,
//     or another program's write) is announced with "* FLAGS" and, when
//     read-write, "* OK [PERMANENTFLAGS]" before any FETCH shows it (RFC
//     3501 7.2.6), as UW does.
//   - CLOSE of a read-only mailbox is silent (OK, nothing removed);
//     EXPUNGE of one answers "NO [READ-ONLY] Expunge ignored on readonly
//     mailbox" (UW answered OK after an untagged NO with that text).
//   - STATUS of the selected mailbox tells what the client was told; new
//     mail follows as EXISTS. STATUS DELETED / DELETED-STORAGE (not offered)
//     are BAD.
//   - SEARCH header keys also match RFC 2047 encoded words, decoded.
//   - RENAME of a folder of folders is refused (NO [INUSE]) while a folder
//     in it is held by a session, as for the folder itself.
//   - A file that shrank or was rewritten behind the session's back ends the
//     session with "* BYE Fatal mailbox error: ...", sent before the
//     connection closes; nothing is written to the file. With
//     imapd_shared_mailboxes the session reads it again instead and tells
//     the client what changed (shared.go, docs/sharing.md).
package session

import (
	"net"
	"time"

	"github.com/emersion/go-imap/v2"

	"imapd/account"
	"imapd/auth"
	"imapd/config"
	"imapd/logging"
	"imapd/mailbox"
)

// Conn is what a session needs from the connection around go-imap: the
// things go-imap v2 does not offer itself. The server package implements it.
type Conn interface {
	// Untagged writes an untagged line (without CRLF) now, between two
	// responses; it is queued like a Notice if go-imap is in the middle of
	// one. The caller must not hold a response writer open.
	Untagged(line string)
	// Responses writes b, whole untagged responses each ending in CRLF
	// that the session encoded itself, between two responses, as part of
	// the command being answered (fetchlines.go). The caller must not hold
	// a response writer open.
	Responses(b []byte) error
	// Notice queues an untagged line (without CRLF, e.g. "* NO Trying to get
	// mailbox lock from process 42") to be sent just before the next tagged
	// reply.
	Notice(line string)
	// SelectReadOnly makes the SELECT being answered complete with
	// "OK [READ-ONLY]" instead of "OK [READ-WRITE]".
	SelectReadOnly()
	// Authenticated switches the idle timeout from the pre-login 3 minutes
	// to imapd_timeout.
	Authenticated()
	// Bye sends an unsolicited "* BYE text" and closes the connection. Safe
	// to call from any goroutine.
	Bye(text string)
	RemoteAddr() net.Addr
	LocalAddr() net.Addr
}

// Deps is what every session of a server shares.
type Deps struct {
	Config   *config.Config
	Log      *logging.Logger
	Hostname string // for From lines of appended mail and the pseudo-message
	Version  string
	// IdlePoll is how often IDLE looks for new mail and saves flags; 0 = 10s.
	IdlePoll time.Duration
	// FlushDelay is the longest a flag change stays in memory only
	// (flush.go); 0 = DefaultFlushDelay.
	FlushDelay time.Duration
	// NewStore gives the storage format of a user who logged in (mbox
	// drop files, or maildir). The session imports no format package.
	NewStore func(*account.Account) mailbox.Store
	// Auth, when set, checks every session's passwords (a -listen daemon's
	// pool of external authenticators, see auth.NewShared); sessions never
	// close it. nil: each session makes its own (auth.New) and closes it
	// after LOGIN.
	Auth auth.Authenticator
}

// Caps is the capability set advertised: only what the storage honours.
func Caps() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:        {},
		imap.CapIMAP4rev2:        {}, // RFC 9051 once enabled: rev2.go, server/rev2.go
		imap.CapNamespace:        {},
		imap.CapUIDPlus:          {},
		imap.CapMove:             {},
		imap.CapChildren:         {},
		imap.CapLiteralPlus:      {},
		imap.CapUnselect:         {},
		imap.CapIdle:             {},
		imap.CapESearch:          {},
		imap.CapStatusSize:       {},
		imap.CapListStatus:       {},
		imap.CapSpecialUse:       {},
		imap.CapCreateSpecialUse: {},
		imap.CapSearchRes:        {},
		imap.CapListExtended:     {},
		imap.CapBinary:           {}, // binary.go; APPEND ~{n}: server/guard.go
	}
}
