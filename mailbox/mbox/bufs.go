package mbox

import (
	"bufio"
	"io"
	"sync"
)

// The buffers the writes of a mailbox copy through: a rewrite, its
// journal, an append, a restore. Each operation takes what it needs for
// its duration and gives it back; made fresh each time, they were half a
// megabyte to allocate and zero for every expunge or stamped mailbox, a
// tenth of the server's time under a many-user load (bench/README.md).
const copyBufSize = 256 << 10

var (
	copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}
	writers  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, copyBufSize) }}
	readers  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}
)

// getCopyBuf returns a buffer of copyBufSize bytes; putCopyBuf takes it
// back.
func getCopyBuf() *[]byte  { return copyBufs.Get().(*[]byte) }
func putCopyBuf(b *[]byte) { copyBufs.Put(b) }

// getWriter returns a writer of copyBufSize bytes to w; putWriter takes it
// back (what it holds is dropped: flush first).
func getWriter(w io.Writer) *bufio.Writer { return take[*bufio.Writer](&writers, w) }
func putWriter(bw *bufio.Writer)          { give(&writers, bw) }

// getReader returns a reader of readBufSize bytes from r; putReader takes
// it back.
func getReader(r io.Reader) *bufio.Reader { return take[*bufio.Reader](&readers, r) }
func putReader(br *bufio.Reader)          { give(&readers, br) }

// resetter is a bufio.Reader or Writer: Reset points it at another stream.
type resetter[S any] interface{ Reset(S) }

// take gets a T from p, pointed at s.
func take[T resetter[S], S any](p *sync.Pool, s S) T {
	t := p.Get().(T)
	t.Reset(s)
	return t
}

// give puts t back into p, pointed at nothing (so that the pool keeps no
// file or message alive).
func give[T resetter[S], S any](p *sync.Pool, t T) {
	var none S
	t.Reset(none)
	p.Put(t)
}
