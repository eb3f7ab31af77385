// Package mailbox defines what a session needs from a mail store: one
// interface for an open mailbox, implemented per on-disk format (mailbox/mbox
// for UW-compatible drop files and folder files). It knows nothing of IMAP
// sessions or the wire protocol.
package mailbox

import (
	"errors"
	"io"
	"time"
)

// Flags holds the IMAP system flags of a message as bits.
type Flags uint8

const (
	Seen Flags = 1 << iota
	Answered
	Flagged
	Deleted
	Draft
)

// Message is what a session sees of one message. It is a copy: changing it
// changes nothing on disk.
type Message struct {
	UID          uint32
	Flags        Flags
	Keywords     []string // in the mailbox's keyword order
	Recent       bool     // \Recent for this session
	InternalDate time.Time
	Size         int64  // RFC822.SIZE: CRLF line ends, status headers excluded
	FromLine     string // the "From sender date" separator line, without newline
}

// NewMessage is a message to append.
type NewMessage struct {
	Body     io.Reader // the message as the client sent it (CRLF or LF)
	Size     int64     // len of Body as sent, or -1 when unknown
	Flags    Flags
	Keywords []string
	Date     time.Time // internal date; zero = now
	FromLine string    // optional "From sender date" line to keep (COPY); "" = built from Sender and Date
	Sender   string    // envelope sender for a new From line, e.g. "user@host"
	// Copy: a copy of a stored message (COPY, MOVE, RENAME INBOX), not
	// \Recent for the next session, as UW's copies; an appended message
	// is.
	Copy bool
}

// Status is what STATUS reports for a mailbox that is not selected.
type Status struct {
	Messages    uint32
	Recent      uint32
	Unseen      uint32
	UIDNext     uint32
	UIDValidity uint32
	Size        int64 // sum of RFC822.SIZE
	// Deleted counts the messages flagged \Deleted and DeletedSize sums
	// their RFC822.SIZE (STATUS DELETED and DELETED-STORAGE, RFC 9051).
	Deleted     uint32
	DeletedSize int64
}

// Update says what Sync found.
type Update struct {
	NewMessages int // messages appended by others since the last Sync, now at the end
}

var (
	// ErrChanged: the file was rewritten or shrunk behind our back; the
	// session must end (UW: "Mailbox shrank ... aborted"). From then on
	// every call of that Mailbox fails with it, and Close only lets go of
	// the file: nothing is ever written over the changed file.
	ErrChanged = errors.New("mailbox changed by another program")
	// ErrReadOnly: a write was attempted on a read-only mailbox.
	ErrReadOnly = errors.New("mailbox is read-only")
	// ErrNotMailbox: the file exists but is not in this format.
	ErrNotMailbox = errors.New("not a mailbox in a known format")
	// ErrTooManyKeywords: the mailbox cannot define another keyword.
	ErrTooManyKeywords = errors.New("too many keywords in mailbox")
	// ErrLocked: a lock could not be had in time.
	ErrLocked = errors.New("mailbox is locked by another program")
)

// Mailbox is one open mailbox as a session sees it. Indexes are 0-based
// positions in the session's current view. Implementations are not safe for
// concurrent use; a session serialises its calls.
type Mailbox interface {
	UIDValidity() uint32
	UIDNext() uint32
	ReadOnly() bool
	// Keywords are the keywords defined in this mailbox, in slot order.
	Keywords() []string
	Len() int
	Message(i int) Message
	// Open returns the client-visible bytes of message i: CRLF line ends,
	// status headers removed, exactly Message(i).Size bytes.
	Open(i int) (io.ReadCloser, error)
	// SetFlags replaces the flags and keywords of message i in memory; they
	// reach the file at the next Checkpoint, Expunge or Close.
	SetFlags(i int, flags Flags, keywords []string) error
	// Checkpoint writes changed state (flags, UIDs, recent) to the file.
	Checkpoint() error
	// Sync picks up messages appended by other programs.
	Sync() (Update, error)
	// Expunge removes messages flagged \Deleted (only those whose UID is in
	// uids, when uids is non-nil) and returns their indexes before removal,
	// ascending.
	Expunge(uids func(uid uint32) bool) ([]int, error)
	// Append adds messages to this open mailbox and returns their UIDs.
	Append(msgs []NewMessage) ([]uint32, error)
	// Close writes changed state and releases the file.
	Close() error
}

// HeaderReader is implemented by a Mailbox that can read the header of a
// message without the rest (ENVELOPE, SEARCH of header fields).
type HeaderReader interface {
	// AppendHeader appends to dst the bytes Open(i) starts with, up to and
	// including the empty line that ends the header (all of them when
	// there is none). It fails for a header block over MaxHeaderRead
	// bytes (a message with no empty line is all header): the caller then
	// reads Open(i) as a stream, which a header parse stops reading early.
	AppendHeader(dst []byte, i int) ([]byte, error)
}

// MaxHeaderRead bounds the header block HeaderReader.AppendHeader reads
// whole (ErrHeaderTooBig beyond it).
const MaxHeaderRead = 1 << 20

// ErrHeaderTooBig is AppendHeader's error for a header block over
// MaxHeaderRead bytes.
var ErrHeaderTooBig = errors.New("header block too big to read whole")
