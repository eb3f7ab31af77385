package mbox

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"imapd/mailbox"
)

var memUses atomic.Int64

func init() {
	testMemUsed = func() { memUses.Add(1) }
	// After a write of a plan, a plan finds nothing more to write
	// (committed sets planEmpty on that ground).
	testCommitted = func(m *Mailbox) {
		if p := m.buildPlan(nil); len(p.patches) != 0 || p.tail >= 0 {
			indexMismatch.Lock()
			indexMismatch.list = append(indexMismatch.list, fmt.Sprintf("%s: a plan after a commit has %d patches, tail %d", m.path, len(p.patches), p.tail))
			indexMismatch.Unlock()
		}
	}
	// No mailbox opened from the memory index may change its entry.
	testMemCheck = func(kept, now []message) {
		if !reflect.DeepEqual(kept, now) {
			indexMismatch.Lock()
			indexMismatch.list = append(indexMismatch.list, "a memory index entry changed while shared")
			indexMismatch.Unlock()
		}
	}
}

// TestMemIndex: a mailbox closed with its state on disk is opened again
// from memory (and checkIndexed compares that state with a parse), unless
// the index file or the mailbox file changed since.
func TestMemIndex(t *testing.T) {
	newMail := "From bob@example.com Tue Nov 24 10:00:00 2026\nSubject: new\n\nnew mail\n\n"
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, path, idx string)
		wantMem int64
	}{
		{"unchanged", func(t *testing.T, path, idx string) {}, 1},
		{"grew", func(t *testing.T, path, idx string) { deliver(t, path, newMail) }, 1},
		{"index removed", func(t *testing.T, path, idx string) { must(t, os.Remove(idx)) }, 0},
		{"index rewritten", func(t *testing.T, path, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			b[len(b)/2] ^= 0x20
			must(t, os.WriteFile(idx, b, 0o600))
		}, 0},
		{"same size, middle changed", func(t *testing.T, path, idx string) {
			s := readFile(t, path)
			const was, is = "Status: O\nX-Status: \nX-Keywords:  ", "Status: RO\nX-Status: \nX-Keywords: "
			rewriteInPlace(t, path, strings.Replace(s, was, is, 1))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opt, _ := indexFixture(t)
			tc.change(t, path, opt.IndexFile(path))
			want := noIndexView(t, path, opt)
			start := memUses.Load()
			if got := sessionView(t, path, opt); got != want {
				t.Fatalf("after the change:\n%s\nwant:\n%s", got, want)
			}
			if n := memUses.Load() - start; n != tc.wantMem {
				t.Fatalf("%d opens from memory, want %d", n, tc.wantMem)
			}
			// a read-write open and a flag change, then from memory again
			m, err := Open(path, opt)
			must(t, err)
			must(t, m.SetFlags(0, m.Message(0).Flags^0x4, nil))
			must(t, m.Close())
			want = noIndexView(t, path, opt)
			if got := sessionView(t, path, opt); got != want {
				t.Fatalf("after a flag change:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestCloseUnchangedTakesNoLock: a read-write open and close that change
// nothing (an open from the memory index of a mailbox whose \Recent is
// claimed) take no lock at close, so a lock another program holds does
// not delay it; a close with something to write (a flag, new mail) still
// takes the locks and writes.
func TestCloseUnchangedTakesNoLock(t *testing.T) {
	newMail := "From bob@example.com Tue Nov 24 10:00:00 2026\nSubject: new\n\nnew mail\n\n"
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, m *Mailbox, path string)
		locks  bool
	}{
		{"unchanged", func(t *testing.T, m *Mailbox, path string) {}, false},
		{"flag changed", func(t *testing.T, m *Mailbox, path string) {
			must(t, m.SetFlags(0, m.Message(0).Flags^mailbox.Answered, nil))
		}, true},
		{"new mail", func(t *testing.T, m *Mailbox, path string) { deliver(t, path, newMail) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opt, _ := indexFixture(t)
			m, err := Open(path, opt) // claims \Recent: the next open writes nothing
			must(t, err)
			must(t, m.Close())
			start := memUses.Load()
			opt.LockTimeout = 50 * time.Millisecond
			m, err = Open(path, opt)
			must(t, err)
			if memUses.Load()-start != 1 {
				t.Fatal("not opened from the memory index")
			}
			tc.change(t, m, path)
			before := readFile(t, path)
			writeFile(t, path+".lock", "") // another program's fresh dot-lock
			err = m.Close()
			must(t, os.Remove(path+".lock"))
			if tc.locks {
				if !errors.Is(err, mailbox.ErrLocked) {
					t.Fatalf("close with something to write: %v, want ErrLocked", err)
				}
				return
			}
			must(t, err)
			if got := readFile(t, path); got != before {
				t.Fatalf("an unchanged close wrote the file:\n%s\nwas:\n%s", got, before)
			}
			// and the next open is from memory again, as a parse says
			want := noIndexView(t, path, opt)
			start = memUses.Load()
			if got := sessionView(t, path, opt); got != want {
				t.Fatalf("after the close:\n%s\nwant:\n%s", got, want)
			}
			if memUses.Load()-start != 1 {
				t.Fatal("not opened from the memory index after an unchanged close")
			}
		})
	}
}
