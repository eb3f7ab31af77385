package mbox

import (
	"bytes"
	"os"
	"slices"
	"sync"
	"time"
	"unsafe"

	"imapd/mailbox"
)

// The memory index: the in-process twin of the index file. A mailbox that
// closes with its state exactly what its file says (the conditions under
// which the index file is written) leaves that state here, keyed by its
// index file name and by what the index file would be keyed by (the
// file's identity, size and modification time). The next open of the
// unchanged file in the same process (the repeat SELECT, in -listen mode
// or in a session process) takes it instead of reading and decoding the
// index file, then checks it exactly as it checks an index file: same
// identity, size and time, From lines in place, a grown file's tail
// parsed. Any mismatch falls back to the index file, then to a parse.
//
// Nothing is copied on either side. The closing mailbox hands its
// messages over (it is closed: it never reads or changes them again),
// after setting their session view to what an open from the index file
// gives (decodeIndex). An open takes the entry's list of messages itself;
// the entry is immutable, and the mailboxes opened from it share it until
// they change something (own: every change of the list or of a message
// goes through a method that calls it first, and the tests check that no
// entry ever changes). An entry also knows whether a commit of an open
// from it would write nothing (allOld), so that such an open and its
// close write nothing and, at close, take no lock (Close). An entry is
// dropped whenever the index file is, and the cache is bounded in entries
// and in bytes.

const (
	memIndexEntries = 8
	memIndexBytes   = 64 << 20
)

// memState is a mailbox's disk state as the index holds it.
type memState struct {
	name       string      // the index file name (the mailbox's path)
	key        indexKey    // the file state it is of
	ixFile     os.FileInfo // the index file of that state, as written or read
	lead       int64
	pseudo     *message
	pseudoRaw  []byte
	pseudoSpan span
	pseudoOK   bool
	msgs       []*message // len == cap: an append by a sharer copies
	allOld     bool       // every message has its "O": nothing to claim
	// what SelectCounts says of the messages
	recent, firstUnseen int
	validity            uint32
	last                uint32
	keywords            []string
	base                baseInfo
	kept                []message // tests: a copy of msgs (testMemCheck)
}

func (s *memState) bytes() int {
	return len(s.msgs) * int(unsafe.Sizeof(message{})+unsafe.Sizeof(&message{}))
}

var memIndex struct {
	sync.Mutex
	entries []*memState // most recently used first
	bytes   int
}

// memIndexDisabled, set by tests, turns the memory index off;
// testMemUsed, set by tests, is called when an open took its state from it.
var (
	memIndexDisabled bool
	testMemUsed      func()
	// testMemCheck, set by tests, is given an entry's messages as kept
	// and as they are when an open takes them: they must be equal.
	testMemCheck func(kept, now []message)
)

// keepInMemory leaves the state of m in the memory index when it is
// exactly what the file (f) says, as saveIndex requires of an index file.
func (m *Mailbox) keepInMemory(id string) {
	name := m.opt.IndexFile(m.path)
	if memIndexDisabled || name == "" || id == "" || m.fi == nil || m.dead != nil || !m.exact {
		return
	}
	k := keyOf(id, m.fi)
	if k.size != m.size || k != m.ix || m.ixFile == nil {
		return // only the state of the index file on disk is kept
	}
	if mt := m.fi.ModTime(); mt.Nanosecond() == 0 && time.Since(mt) < 2*time.Second {
		return // another write within this second could keep this time
	}
	if m.pseudo != nil && m.pseudo.parsed != nil || !m.uidStateWritten() {
		return
	}
	if memHas(name, k) {
		return // opened from it and unchanged: nothing to keep
	}
	if len(m.msgs)*int(unsafe.Sizeof(message{})+unsafe.Sizeof(&message{})) > memIndexBytes/2 {
		return
	}
	// One pass: the rest of indexable, what SELECT counts, and the
	// messages set to what an open from the index file gives
	// (decodeIndex). The mailbox is closing: if a check fails, nobody
	// looks at its messages again. Shared messages (of an entry since
	// dropped) have that view already, and other mailboxes may be
	// reading them.
	allOld, recent, unseen := true, 0, 0
	for i, msg := range m.msgs {
		if msg.diskUID == 0 || msg.uid != msg.diskUID || msg.parsed != nil {
			return
		}
		if !m.shared {
			msg.flags, msg.kw, msg.recent = msg.diskFlags, msg.diskKw, !msg.diskOld
		}
		if !msg.diskOld {
			allOld = false
			recent++
		}
		if unseen == 0 && msg.diskFlags&mailbox.Seen == 0 {
			unseen = i + 1
		}
	}
	s := &memState{name: name, key: k, ixFile: m.ixFile, lead: m.lead, pseudoRaw: bytes.Clone(m.pseudoRaw),
		pseudoSpan: m.pseudoSpan, pseudoOK: m.pseudoOK, validity: m.uidValidity, last: m.uidLast,
		keywords: slices.Clone(m.keywords), allOld: allOld, recent: recent, firstUnseen: unseen}
	if m.pseudo == nil && len(m.msgs) > 0 && m.msgs[0].diskHasBase {
		s.base = m.diskBase // what the index file holds (encodeIndex)
		s.base.keywords = slices.Clone(s.base.keywords)
	}
	if m.pseudo != nil {
		p := *m.pseudo
		s.pseudo = &p
	}
	// The mailbox is closing: its messages become the entry's.
	s.msgs = m.msgs[:len(m.msgs):len(m.msgs)]
	m.shared, m.planEmpty = true, false // read-only from here on
	if testMemCheck != nil {
		s.kept = values(s.msgs)
	}
	memIndex.Lock()
	defer memIndex.Unlock()
	memForgetLocked(name)
	memIndex.entries = slices.Insert(memIndex.entries, 0, s)
	memIndex.bytes += s.bytes()
	for len(memIndex.entries) > memIndexEntries || memIndex.bytes > memIndexBytes {
		last := len(memIndex.entries) - 1
		memIndex.bytes -= memIndex.entries[last].bytes()
		memIndex.entries[last] = nil
		memIndex.entries = memIndex.entries[:last]
	}
}

func memHas(name string, k indexKey) bool {
	memIndex.Lock()
	defer memIndex.Unlock()
	for _, s := range memIndex.entries {
		if s.name == name {
			return s.key == k
		}
	}
	return false
}

// memForget drops the entry of the mailbox whose index file is name.
func memForget(name string) {
	memIndex.Lock()
	defer memIndex.Unlock()
	memForgetLocked(name)
}

func memForgetLocked(name string) {
	for j, s := range memIndex.entries {
		if s.name == name {
			if s.kept != nil && testMemCheck != nil {
				testMemCheck(s.kept, values(s.msgs))
			}
			memIndex.bytes -= s.bytes()
			memIndex.entries = slices.Delete(memIndex.entries, j, j+1)
			return
		}
	}
}

// fromMemory installs a copy of the memory index's state of the file
// with identity id, if any, and returns the key of that state. The state
// is used only while the index file it was taken with is still there,
// unchanged: whatever replaces, removes or rewrites the index file (a
// newer index by another process, a repair) makes it unusable.
func (m *Mailbox) fromMemory(name, id string) (indexKey, bool) {
	if memIndexDisabled {
		return indexKey{}, false
	}
	memIndex.Lock()
	var s *memState
	for j, e := range memIndex.entries {
		if e.name == name {
			s = e
			copy(memIndex.entries[1:j+1], memIndex.entries[:j])
			memIndex.entries[0] = s
			break
		}
	}
	memIndex.Unlock()
	if s == nil || s.key.id != id {
		return indexKey{}, false
	}
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(fi, s.ixFile) || fi.Size() != s.ixFile.Size() || !fi.ModTime().Equal(s.ixFile.ModTime()) {
		memForget(name)
		return indexKey{}, false
	}
	if s.kept != nil && testMemCheck != nil {
		testMemCheck(s.kept, values(s.msgs))
	}
	m.shared, m.mem = true, s // the messages and their list: the entry's until own
	// A commit finds nothing to write while nothing changes: every
	// message says what the file says, and the UID state is written
	// (indexable); only a claim of \Recent would write an "O".
	m.planEmpty = s.allOld || !m.claim
	m.lead, m.uidValidity, m.uidLast = s.lead, s.validity, s.last
	m.keywords = slices.Clone(s.keywords)
	m.diskBase = s.base
	m.diskBase.keywords = slices.Clone(s.base.keywords)
	m.pseudo, m.pseudoRaw, m.pseudoSpan, m.pseudoOK = nil, bytes.Clone(s.pseudoRaw), s.pseudoSpan, s.pseudoOK
	if s.pseudo != nil {
		p := *s.pseudo
		m.pseudo = &p
	}
	m.msgs = s.msgs
	m.ixFile = s.ixFile
	return s.key, true
}

// own gives the mailbox its own copy of messages it shares with the
// memory index, before any of them or their list changes. It is called
// before every change of the state in memory, shared or not: from then
// on a commit may have something to write (planEmpty).
func (m *Mailbox) own() {
	m.planEmpty = false
	if !m.shared {
		return
	}
	m.shared, m.mem = false, nil
	all := make([]message, len(m.msgs))
	msgs := make([]*message, len(m.msgs))
	for j, msg := range m.msgs {
		all[j] = *msg
		msgs[j] = &all[j]
	}
	m.msgs = msgs
}

// values is a copy of the messages (tests: testMemCheck).
func values(msgs []*message) []message {
	v := make([]message, len(msgs))
	for j, msg := range msgs {
		v[j] = *msg
	}
	return v
}
