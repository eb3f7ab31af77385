package auth

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// prepareHashMemory makes the next n-byte allocation of the heap (the hash's
// block array: yescrypt allocates it first thing) land on memory backed by
// transparent huge pages: it allocates n bytes, advises MADV_HUGEPAGE on
// the 2 MiB-aligned part (THP in "madvise" mode, the Debian default, honours
// it; "always" needs nothing; "never" ignores it), touches them, and frees
// them, so that the runtime hands the same, already faulted pages to the
// hash. Should the runtime place the hash's array elsewhere, the cost is
// one extra pass over n bytes.
func prepareHashMemory(n int) {
	const huge = 2 << 20
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + huge - 1) &^ (huge - 1)
	end := (p + uintptr(n)) &^ (huge - 1)
	if end > start {
		_ = unix.Madvise(b[start-p:end-p], unix.MADV_HUGEPAGE)
	}
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	runtime.GC()
}
