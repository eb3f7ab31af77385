package session

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/mailbox"
)

// Shared mailboxes (imapd_shared_mailboxes, docs/sharing.md): several
// sessions hold one mailbox read-write. Each session keeps its own open
// Mailbox behind a sharedView, which follows what the others write:
//
//   - at every command (and in IDLE when a session of this process wrote,
//     see tracker.go, or at the IDLE poll tick), one stat tells whether
//     the mailbox changed behind the view's back (changeSeer); only then
//     is it read again: mbox re-opens the file (a flag change written in
//     place, or a rewrite by an expunge, is invisible to the open file's
//     view), maildir re-reads its directories (it follows in place);
//   - a message another session expunged stays in the view as a ghost
//     (same sequence number, last known flags, its body refused with NO
//     [EXPUNGEISSUED]) until the client may be told EXPUNGE (RFC 3501
//     7.4.1: never during FETCH, STORE, SEARCH by sequence number);
//   - the session's own flag changes not yet written (pending) survive a
//     re-read: they are applied again by UID;
//   - changed flags reach the client as untagged FETCH (FLAGS), new mail
//     as EXISTS, as for a session alone.

// changeSeer is a Mailbox that can tell cheaply whether another program
// changed it since it last read or wrote it (mbox, maildir).
type changeSeer interface{ Changed() bool }

// strictMailbox is a Mailbox that can be told to refuse any operation on
// a file another program wrote since it last looked (mbox: see Strict).
type strictMailbox interface{ Strict() }

// goneSeer is a Mailbox that keeps messages others removed in its view,
// marked, until Expunge (maildir): it follows other writers in place.
type goneSeer interface{ Gone(i int) bool }

// errGone is a message another session expunged, not yet reported.
var errGone = errors.New("message was expunged by another session")

type flagState struct {
	flags    mailbox.Flags
	keywords []string
}

func stateOf(m mailbox.Message) flagState {
	return flagState{m.Flags, slices.Clone(m.Keywords)}
}

func (f flagState) same(m mailbox.Message) bool {
	return f.flags == m.Flags && slices.Equal(f.keywords, m.Keywords)
}

// ghost is a message expunged by another session that the client still
// numbers.
type ghost struct {
	pos int // index in the view
	msg mailbox.Message
}

// sharedView is a session's Mailbox when mailboxes are shared: indexes
// are the session's view (ghosts included). Not safe for concurrent use.
type sharedView struct {
	store   mailbox.Store
	path    string
	mb      mailbox.Mailbox
	ghosts  []ghost              // ascending pos
	pending map[uint32]flagState // own flag changes not yet written
	moved   bool                 // re-read since the flags were compared
	recent  map[uint32]bool      // \Recent for this session, from before a re-read
	told    *int                 // how many messages the client knows (selected.told)
	wrote   func()               // tells the other sessions of this process

	// shown is what the client was last shown of the flags of the
	// messages it knows, taken when the view first moves (markMoved) and
	// compared with the view by followOthers. Until then (nil) the view
	// itself is what the client was shown: its own changes are shown by
	// the command that made them. So a SELECT costs nothing per message;
	// only a change by another session costs a pass over the messages.
	shown []flagState
}

var _ mailbox.Mailbox = (*sharedView)(nil)

func newSharedView(store mailbox.Store, path string, mb mailbox.Mailbox, told *int, wrote func()) *sharedView {
	strict(mb)
	return &sharedView{store: store, path: path, mb: mb, told: told, wrote: wrote}
}

func strict(mb mailbox.Mailbox) {
	if s, ok := mb.(strictMailbox); ok {
		s.Strict()
	}
}

// locate maps a view index to the Mailbox's index, or to its ghost.
func (v *sharedView) locate(i int) (int, *ghost) {
	before := 0
	for k := range v.ghosts {
		g := &v.ghosts[k]
		if g.pos == i {
			return -1, g
		}
		if g.pos > i {
			break
		}
		before++
	}
	return i - before, nil
}

// gone reports whether message i was removed by another session.
func (v *sharedView) gone(i int) bool {
	j, g := v.locate(i)
	if g != nil {
		return true
	}
	gs, ok := v.mb.(goneSeer)
	return ok && gs.Gone(j)
}

func (v *sharedView) UIDValidity() uint32 { return v.mb.UIDValidity() }
func (v *sharedView) UIDNext() uint32     { return v.mb.UIDNext() }
func (v *sharedView) ReadOnly() bool      { return v.mb.ReadOnly() }
func (v *sharedView) Keywords() []string  { return v.mb.Keywords() }
func (v *sharedView) Len() int            { return v.mb.Len() + len(v.ghosts) }

func (v *sharedView) Message(i int) mailbox.Message {
	j, g := v.locate(i)
	if g != nil {
		return g.msg
	}
	m := v.mb.Message(j)
	if !m.Recent && v.recent[m.UID] {
		// The file says seen since this session claimed it: \Recent
		// stays for the session (RFC 3501 2.3.2).
		m.Recent = true
	}
	return m
}

func (v *sharedView) Open(i int) (io.ReadCloser, error) {
	if v.gone(i) {
		return nil, errGone
	}
	j, _ := v.locate(i)
	return v.mb.Open(j)
}

func (v *sharedView) SetFlags(i int, flags mailbox.Flags, keywords []string) error {
	for try := 0; ; try++ {
		j, g := v.locate(i)
		if g != nil {
			// Nothing to write: the message is gone. The client sees the
			// change until it is told EXPUNGE.
			g.msg.Flags, g.msg.Keywords = flags, slices.Clone(keywords)
			return nil
		}
		err := v.mb.SetFlags(j, flags, keywords)
		if errors.Is(err, mailbox.ErrChanged) && try < rereads {
			if err := v.reload(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		m := v.mb.Message(j)
		if v.pending == nil {
			v.pending = map[uint32]flagState{}
		}
		v.pending[m.UID] = stateOf(m)
		return nil
	}
}

// Checkpoint writes the session's flag changes; a file another session
// rewrote meanwhile is read again and the changes applied to it.
func (v *sharedView) Checkpoint() error {
	err := v.mb.Checkpoint()
	if errors.Is(err, mailbox.ErrChanged) {
		return v.reload()
	}
	if err == nil && len(v.pending) > 0 {
		v.pending = nil
		v.wrote()
	}
	return err
}

// Sync follows the other sessions: see look.
func (v *sharedView) Sync() (mailbox.Update, error) {
	return mailbox.Update{}, v.look()
}

// look is the stat per command: the mailbox is read again only when it
// changed behind the view's back.
func (v *sharedView) look() error {
	cs, ok := v.mb.(changeSeer)
	if ok && !cs.Changed() {
		return nil
	}
	v.markMoved()
	if _, follows := v.mb.(goneSeer); follows || !ok {
		_, err := v.mb.Sync()
		if errors.Is(err, mailbox.ErrChanged) {
			return v.reload()
		}
		return err
	}
	return v.reload()
}

// Expunge removes this session's \Deleted messages; the indexes returned
// are the view's (ghosts stay, renumbered).
func (v *sharedView) Expunge(uids func(uid uint32) bool) ([]int, error) {
	gone, err := v.mb.Expunge(uids)
	// Another session wrote the file since we read it: read it again and
	// retry (a few times: many sessions may be writing).
	for try := 0; errors.Is(err, mailbox.ErrChanged) && try < rereads; try++ {
		if err := v.reload(); err != nil {
			return nil, err
		}
		gone, err = v.mb.Expunge(uids)
	}
	if err != nil {
		return nil, err
	}
	out := v.viewIndexes(gone)
	v.shiftGhosts(out)
	if len(out) > 0 {
		v.wrote()
	}
	return out, nil
}

// viewIndexes turns ascending indexes of the Mailbox (before removal)
// into the view's.
func (v *sharedView) viewIndexes(idx []int) []int {
	out := make([]int, 0, len(idx))
	k := 0
	for _, j := range idx {
		for k < len(v.ghosts) && v.ghosts[k].pos <= j+k {
			k++
		}
		out = append(out, j+k)
	}
	return out
}

// shiftGhosts renumbers the ghosts after the view messages removed (view
// indexes before removal, ascending) left.
func (v *sharedView) shiftGhosts(removed []int) {
	for k := range v.ghosts {
		g := &v.ghosts[k]
		n, _ := slices.BinarySearch(removed, g.pos)
		g.pos -= n
	}
}

// Append adds messages to the shared mailbox. A file rewritten by another
// session just now is read again and the client asked to retry.
func (v *sharedView) Append(msgs []mailbox.NewMessage) ([]uint32, error) {
	if err := v.look(); err != nil {
		return nil, err
	}
	uids, err := v.mb.Append(msgs)
	// Refused before anything was written: read again and retry.
	for try := 0; errors.Is(err, mailbox.ErrStale) && try < rereads; try++ {
		if err := v.reload(); err != nil {
			return nil, err
		}
		uids, err = v.mb.Append(msgs)
	}
	if errors.Is(err, mailbox.ErrChanged) {
		if rerr := v.reload(); rerr != nil {
			return nil, rerr
		}
		return nil, fmt.Errorf("append to %s: changed by another session meanwhile: %w", v.path, mailbox.ErrLocked)
	}
	if err == nil {
		v.wrote()
	}
	return uids, err
}

func (v *sharedView) Close() error {
	if len(v.pending) > 0 {
		if err := v.Checkpoint(); err != nil {
			v.mb.Close()
			return err
		}
	}
	return v.mb.Close()
}

// rereads is how many times an operation that found the file written by
// another session since it was read reads it again and retries before it
// gives up (ErrChanged: the session ends). Each try loses only to a write
// that landed between the read and the operation's lock; five sessions
// and a deliverer writing at once beat five tries now and then (the
// shared-sessions test), not fifty.
const rereads = 50

// reload opens the mailbox again (mbox, after another session wrote it):
// messages gone from the file become ghosts, new ones join at the end,
// pending flag changes are applied again. An error wraps ErrChanged when
// the session cannot go on (the file was renumbered or cannot be read).
func (v *sharedView) reload() error {
	for try := 0; ; try++ {
		saveErr, err := v.reloadOnce()
		if err != nil || saveErr == nil || !errors.Is(saveErr, mailbox.ErrChanged) || try == rereads-1 {
			return err
		}
		// Another session wrote between our read and our write: the
		// changes are still pending, read again.
	}
}

// reloadOnce is one try of reload; saveErr is why the pending changes
// could not be written (nil: written, or none).
func (v *sharedView) reloadOnce() (saveErr, err error) {
	v.markMoved()
	old := v.mb
	if len(v.pending) > 0 && old.Checkpoint() == nil {
		v.pending = nil
		v.wrote()
	}
	// Only what the client knows is kept: messages beyond it may carry
	// UIDs an operation that failed (the file changed under it) gave them
	// in memory only; they are read again from the file, as new.
	n := min(*v.told, v.Len())
	snap := make([]mailbox.Message, n)
	gone := make([]bool, n)
	for i := range n {
		snap[i], gone[i] = v.Message(i), v.gone(i)
	}
	for _, m := range snap {
		if m.Recent {
			if v.recent == nil {
				v.recent = map[uint32]bool{}
			}
			v.recent[m.UID] = true
		}
	}
	old.Close()
	nm, err := v.store.Open(v.path, false)
	if err != nil {
		return nil, fmt.Errorf("re-read mailbox %s another session changed: %w (%w)", v.path, err, mailbox.ErrChanged)
	}
	strict(nm)
	if nm.ReadOnly() || nm.UIDValidity() != old.UIDValidity() {
		nm.Close()
		return nil, fmt.Errorf("mailbox %s: UIDVALIDITY changed or no longer writable: %w", v.path, mailbox.ErrChanged)
	}
	at := make(map[uint32]int, nm.Len())
	for j := 0; j < nm.Len(); j++ {
		at[nm.Message(j).UID] = j
	}
	var ghosts []ghost
	live := 0
	for i := range n {
		if _, ok := at[snap[i].UID]; gone[i] || !ok {
			ghosts = append(ghosts, ghost{pos: i, msg: snap[i]})
			continue
		}
		// The messages kept must come first, in the same order (UIDs
		// ascend); anything else is a renumbered file.
		if live >= nm.Len() || nm.Message(live).UID != snap[i].UID {
			nm.Close()
			return nil, fmt.Errorf("mailbox %s: messages renumbered by another program: %w", v.path, mailbox.ErrChanged)
		}
		live++
	}
	for uid, f := range v.pending {
		if j, ok := at[uid]; ok {
			nm.SetFlags(j, f.flags, f.keywords)
		}
	}
	v.mb, v.ghosts, v.moved = nm, ghosts, true
	if len(v.pending) > 0 {
		if saveErr = nm.Checkpoint(); saveErr == nil {
			v.pending = nil
			v.wrote()
		}
	}
	return saveErr, nil
}

// markMoved records that the view is about to follow other sessions:
// the first time since the flags were last compared, it keeps what the
// client was shown (the view as it is now) in shown.
func (v *sharedView) markMoved() {
	if v.moved {
		return
	}
	v.moved = true
	n := min(*v.told, v.Len())
	v.shown = make([]flagState, 0, n)
	for i := range n {
		v.shown = append(v.shown, stateOf(v.Message(i)))
	}
}

// grow: the client is told of n messages; those new to it are shown as
// they are now.
func (v *sharedView) grow(n int) {
	if !v.moved {
		return // the view is what the client is shown
	}
	for i := len(v.shown); i < min(n, v.Len()); i++ {
		v.shown = append(v.shown, stateOf(v.Message(i)))
	}
}

// showed: the client was shown message i's flags as they are now.
func (v *sharedView) showed(i int) {
	if v.moved && i < len(v.shown) {
		v.shown[i] = stateOf(v.Message(i))
	}
}

// forget: the client was told message i was expunged.
func (v *sharedView) forget(i int) {
	if i < len(v.shown) {
		v.shown = slices.Delete(v.shown, i, i+1)
	}
}

// dropGone takes the messages other sessions removed out of the view and
// returns their view indexes (before removal, ascending). Those the
// client numbers (below told) only when allowExpunge.
func (v *sharedView) dropGone(told int, allowExpunge bool) ([]int, error) {
	var out []int
	keep := v.ghosts[:0]
	for _, g := range v.ghosts {
		if allowExpunge || g.pos >= told {
			out = append(out, g.pos)
			continue
		}
		keep = append(keep, g)
	}
	v.ghosts = keep
	v.shiftGhosts(out)
	gs, ok := v.mb.(goneSeer)
	if !ok || !allowExpunge {
		return out, nil
	}
	any := false
	for j := 0; j < v.mb.Len() && !any; j++ {
		any = gs.Gone(j)
	}
	if !any {
		return out, nil
	}
	// The format drops the messages it marked gone (and only those).
	removed, err := v.mb.Expunge(func(uint32) bool { return false })
	if err != nil {
		return out, err
	}
	more := v.viewIndexes(removed)
	v.shiftGhosts(more)
	// more is in the indexes of the view without the ghosts just
	// dropped: back to the indexes before any removal.
	base := slices.Clone(out)
	for _, i := range more {
		n := 0
		for n < len(base) && base[n] <= i+n {
			n++
		}
		out = append(out, i+n)
	}
	slices.Sort(out)
	return out, nil
}

// followOthers brings the session's view up to what the other sessions
// wrote, tells the client what was expunged (when it may), and returns the
// view indexes of messages the client knows whose flags changed (to be
// sent as FETCH FLAGS once new keywords were announced). Caller holds mu.
func (s *Session) followOthers(w *imapserver.UpdateWriter, allowExpunge bool) ([]int, error) {
	sel := s.sel
	v := sel.shared
	if err := v.look(); err != nil {
		if errors.Is(err, mailbox.ErrChanged) {
			s.deps.Log.Errorf("follow %s %s: %v", sel.path, s.who(), err)
			return nil, s.fatal("Fatal mailbox error: mailbox changed by another program")
		}
		s.deps.Log.Errorf("check for changes in %s %s: %v", sel.path, s.who(), err)
		return nil, nil
	}
	removed, err := v.dropGone(sel.told, allowExpunge)
	if err != nil {
		s.deps.Log.Errorf("drop messages removed from %s %s: %v", sel.path, s.who(), err)
	}
	for k, i := range removed {
		if i >= sel.told {
			break
		}
		if err := w.WriteExpunge(uint32(i - k + 1)); err != nil {
			return nil, err
		}
	}
	sel.forget(removed)
	if !v.moved {
		return nil, nil
	}
	v.moved = false
	var changed []int
	for i := 0; i < sel.told && i < len(v.shown); i++ {
		if v.gone(i) {
			continue
		}
		if !v.shown[i].same(v.Message(i)) {
			changed = append(changed, i)
		}
	}
	// From here the view is what the client is shown (the caller sends
	// the changed flags).
	v.shown = nil
	return changed, nil
}

// writeChangedFlags sends FETCH (UID FLAGS) for messages whose flags
// another session changed.
func (s *Session) writeChangedFlags(w *imapserver.UpdateWriter, changed []int) error {
	for _, i := range changed {
		m := s.sel.mbox.Message(i)
		if err := w.WriteMessageFlags(uint32(i+1), imap.UID(m.UID), messageFlags(s.shown(m))); err != nil {
			return err
		}
	}
	return nil
}
