package auth

import (
	"runtime/debug"
	"strings"
	"sync/atomic"
)

// Working memory of memory-hard hashes in one-session processes.
//
// yescrypt at Debian's default cost ("$y$j9T$": N=4096, r=32) works in 16
// MiB. In a process serving one session (inetd, a child of -listen) that
// memory would stay in the Go heap for the rest of the session, making a
// logged-in session process cost ~20 MB PSS instead of ~3 MB. After
// SetOneSessionProcess, VerifyCrypt prepares the memory before a yescrypt
// hash (on Linux: backed by transparent huge pages, which cuts the page
// faults from ~4,100 to a few dozen and the TLB misses of the hash's random
// reads; see crypt_mem_linux.go) and gives it back to the operating system
// right after. A daemon serving many sessions in one process keeps the
// runtime's own reuse instead (it hashes concurrently, and a forced
// collection per login would cost every session).

var oneSession atomic.Bool

// SetOneSessionProcess tells VerifyCrypt that this process serves one
// session: the working memory of a memory-hard hash is returned to the
// operating system once the hash is done.
func SetOneSessionProcess() { oneSession.Store(true) }

// yescryptMemory is the size in bytes of the block array yescrypt
// allocates for hash (128 * r * N), 0 when hash is not "$y$..." or its
// parameters cannot be read. The setting is "j" (flags) and two digits of
// crypt's base-64 alphabet: log2(N)-1 and r-1.
func yescryptMemory(hash string) int {
	rest, ok := strings.CutPrefix(hash, "$y$")
	if !ok {
		return 0
	}
	setting, _, _ := strings.Cut(rest, "$")
	if len(setting) != 3 || setting[0] != 'j' {
		return 0
	}
	ln, r := cryptDigit(setting[1])+1, cryptDigit(setting[2])+1
	if ln <= 0 || r <= 0 || ln > 24 || r > 64 {
		return 0
	}
	return 128 * r << ln
}

// cryptDigit is the value of c in crypt's base-64 alphabet
// ("./0-9A-Za-z"), -1 for any other byte.
func cryptDigit(c byte) int {
	switch {
	case c == '.' || c == '/':
		return int(c - '.')
	case c >= '0' && c <= '9':
		return int(c-'0') + 2
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 12
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 38
	}
	return -1
}

// beforeHash prepares for hashing hash; afterHash releases what it took.
func beforeHash(hash string) (release bool) {
	if !oneSession.Load() {
		return false
	}
	n := yescryptMemory(hash)
	if n == 0 {
		return false
	}
	prepareHashMemory(n)
	return true
}

func afterHash(release bool) {
	if release {
		debug.FreeOSMemory()
	}
}
