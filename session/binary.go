package session

// BINARY (RFC 3516): FETCH BINARY[part], BINARY.PEEK[part] and
// BINARY.SIZE[part] give a part's content with its Content-Transfer-Encoding
// undone. The mailbox files hold the message as text, exactly as it came, so
// decoding base64 and quoted-printable from them is exact; 7bit, 8bit and
// binary parts are sent as stored. A part whose encoding is none of these is
// refused with NO [UNKNOWN-CTE], as the RFC asks, before anything of that
// message is sent (and before FETCH sets \Seen on it).
//
// Part numbers name the same parts as BODY[part]: the parts of a multipart,
// the parts of the message inside a message/rfc822 part, and "1" for the
// body of a message that is not multipart. BINARY[] is the whole message as
// stored (a message has no transfer encoding of its own). A part that does
// not exist is empty.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"imapd/mailbox"
)

// maxBinaryDepth bounds the part numbers a BINARY item may have: every level
// costs a pass over the part, and real messages nest a few levels at most.
const maxBinaryDepth = 64

// binaryItems is what the BINARY items of one FETCH need of one message.
// Every item's encoding is checked before anything of the message is
// written; the data is decoded as each item is written. Decoded parts are
// kept for repeated items up to the size of the message, so a FETCH naming
// a part many times costs one decoding, and memory stays within about
// twice the message.
type binaryItems struct {
	raw    []byte            // the whole message, nil when there are no BINARY items
	cache  map[string][]byte // decoded parts by part number
	cached int               // bytes in cache
	// former announces each item as RFC 3516 prefers; nil: go-imap's form
	former binaryFormer
}

// binaryItems reads message i and checks the encodings of the parts the
// BINARY items of options name. The error is the NO [UNKNOWN-CTE] of a part
// whose encoding is not known, or a storage error.
func (s *Session) binaryItems(mb mailbox.Mailbox, i int, options *imap.FetchOptions) (*binaryItems, error) {
	bin := &binaryItems{}
	bin.former, _ = s.conn.(binaryFormer)
	if len(options.BinarySection) == 0 && len(options.BinarySectionSize) == 0 {
		return bin, nil
	}
	rc, err := mb.Open(i)
	if err != nil {
		return nil, s.storageErr("FETCH", err)
	}
	bin.raw, err = io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, s.storageErr("FETCH", err)
	}
	checked := make(map[string]bool)
	check := func(part []int) error {
		key := fmt.Sprint(part)
		if checked[key] {
			return nil
		}
		checked[key] = true
		_, _, err := findBinaryPart(bin.raw, part)
		return err
	}
	for _, sec := range options.BinarySection {
		if err := check(sec.Part); err != nil {
			return nil, err
		}
	}
	for _, sec := range options.BinarySectionSize {
		if err := check(sec.Part); err != nil {
			return nil, err
		}
	}
	return bin, nil
}

// part returns a part, decoded (empty if its encoding is not known: the
// items were checked before).
func (bin *binaryItems) part(p []int) []byte {
	key := fmt.Sprint(p)
	if b, ok := bin.cache[key]; ok {
		return b
	}
	b, _ := binaryPart(bin.raw, p)
	if bin.cached+len(b) <= len(bin.raw) {
		if bin.cache == nil {
			bin.cache = make(map[string][]byte)
		}
		bin.cache[key] = b
		bin.cached += len(b)
	}
	return b
}

// binaryFormer is a Conn that can announce a BINARY item the way RFC 3516
// 4.3 prefers, which go-imap's writer cannot: a plain literal when the data
// holds no NUL, and the origin of a partial fetch (server/binaryout.go).
// Without it, every item is go-imap's "BINARY[part] ~{n}".
type binaryFormer interface {
	BinaryForm(plain bool, origin int64)
}

// write writes the BINARY and BINARY.SIZE items, in the order of options.
func (bin *binaryItems) write(rw *imapserver.FetchResponseWriter, options *imap.FetchOptions) {
	for _, sec := range options.BinarySection {
		b := partialOf(bin.part(sec.Part), sec.Partial)
		if bin.former != nil {
			origin := int64(-1)
			if sec.Partial != nil {
				origin = sec.Partial.Offset
			}
			bin.former.BinaryForm(bytes.IndexByte(b, 0) < 0, origin)
		}
		wc := rw.WriteBinarySection(sec, int64(len(b)))
		wc.Write(b)
		wc.Close()
	}
	for _, sec := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(sec, uint32(len(bin.part(sec.Part))))
	}
}

// errUnknownCTE answers a BINARY item on a part whose encoding is not known.
func errUnknownCTE(cte string) error {
	return &imap.Error{
		Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeUnknownCTE,
		Text: "Cannot decode Content-Transfer-Encoding " + quoteCTE(cte),
	}
}

// quoteCTE makes a header value safe and short for a response text.
func quoteCTE(cte string) string {
	var b strings.Builder
	for _, r := range cte {
		if b.Len() >= 40 {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// partialOf applies <offset.size> to decoded data.
func partialOf(b []byte, p *imap.SectionPartial) []byte {
	if p == nil {
		return b
	}
	if p.Offset < 0 || p.Offset >= int64(len(b)) {
		return nil
	}
	end := int64(len(b))
	if p.Size >= 0 && p.Size < end-p.Offset {
		end = p.Offset + p.Size
	}
	return b[p.Offset:end]
}

// entity is a message or body part: its header and its body.
type entity struct {
	header textproto.Header
	body   []byte
	digest bool // a part of a multipart/digest: message/rfc822 by default
}

// parseEntity splits b at the empty line that ends the header.
func parseEntity(b []byte, digest bool) entity {
	e := entity{digest: digest}
	var head []byte
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		e.body = b[2:]
	default:
		if k := bytes.Index(b, []byte("\r\n\r\n")); k >= 0 {
			head, e.body = b[:k+2], b[k+4:]
		} else {
			head = b
		}
	}
	if len(head) > 0 {
		r := io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n"))
		// A malformed header keeps the fields read before the fault.
		e.header, _ = textproto.ReadHeader(bufio.NewReader(r))
	}
	return e
}

// mediaType is the entity's content type, lower case, and its boundary.
func (e entity) mediaType() (string, string) {
	v := e.header.Get("Content-Type")
	if v == "" {
		if e.digest {
			return "message/rfc822", ""
		}
		return "text/plain", ""
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "text/plain", ""
	}
	return mt, params["boundary"]
}

// child returns part n of e. isMsg says e is a message (the top one or
// one inside a message/rfc822 part) rather than a body part.
func (e entity) child(n int, isMsg bool) (entity, bool) {
	mt, boundary := e.mediaType()
	switch {
	case strings.HasPrefix(mt, "multipart/") && boundary != "":
		parts := splitMultipart(e.body, boundary)
		if n < 1 || n > len(parts) {
			return entity{}, false
		}
		return parseEntity(parts[n-1], mt == "multipart/digest"), true
	case !isMsg && (mt == "message/rfc822" || mt == "message/global"):
		return parseEntity(e.body, false).child(n, true)
	case isMsg && n == 1:
		// The body of a single-part message, with the message's header.
		return entity{header: e.header, body: e.body}, true
	}
	return entity{}, false
}

// findBinaryPart finds part of msg and the name of its transfer encoding
// (lower case, "" for none); found is false for a part that does not exist.
// The error is NO [UNKNOWN-CTE] for an encoding binaryPart cannot undo.
func findBinaryPart(msg []byte, part []int) (e entity, found bool, err error) {
	if len(part) == 0 {
		return entity{body: msg}, true, nil
	}
	if len(part) > maxBinaryDepth {
		return entity{}, false, nil
	}
	e = parseEntity(msg, false)
	isMsg := true
	for _, n := range part {
		var ok bool
		if e, ok = e.child(n, isMsg); !ok {
			return entity{}, false, nil
		}
		isMsg = false
	}
	switch cteName(e.header) {
	case "", "7bit", "8bit", "binary", "base64", "quoted-printable":
		return e, true, nil
	}
	return entity{}, false, errUnknownCTE(e.header.Get("Content-Transfer-Encoding"))
}

// cteName is the entity's transfer encoding, lower case, without comments.
func cteName(h textproto.Header) string {
	name := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if k := strings.IndexAny(name, " \t(;"); k >= 0 {
		name = name[:k] // a comment after the name
	}
	return name
}

// binaryPart returns part of msg with its transfer encoding undone
// (BINARY[] is the whole message as stored).
func binaryPart(msg []byte, part []int) ([]byte, error) {
	e, found, err := findBinaryPart(msg, part)
	if err != nil || !found {
		return nil, err
	}
	if len(part) == 0 {
		return msg, nil
	}
	switch cteName(e.header) {
	case "base64":
		return decodeBase64(e.body), nil
	case "quoted-printable":
		return decodeQP(e.body), nil
	}
	return e.body, nil
}

// splitMultipart returns the body parts of a multipart body: what lies
// between its delimiter lines, without the CRLF before each delimiter.
// Without a close delimiter the last part runs to the end.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // where the current part begins; -1 before the first delimiter
	for pos := 0; pos <= len(body); {
		k := bytes.Index(body[pos:], delim)
		if k < 0 {
			break
		}
		at := pos + k
		pos = at + len(delim)
		if at > 0 && (at < 2 || body[at-1] != '\n' || body[at-2] != '\r') {
			continue // not at the start of a line
		}
		rest := body[pos:]
		closing := bytes.HasPrefix(rest, []byte("--"))
		if closing {
			rest = rest[2:]
		}
		eol := bytes.Index(rest, []byte("\r\n"))
		line := rest
		if eol >= 0 {
			line = rest[:eol]
		}
		if len(bytes.TrimRight(line, " \t")) != 0 {
			continue // a longer boundary that starts with this one
		}
		if start >= 0 {
			end := max(at-2, start)
			parts = append(parts, body[start:end])
		}
		if closing || eol < 0 {
			return parts
		}
		start = len(body) - len(rest) + eol + 2
		pos = start
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts
}

// decodeBase64 decodes base64 leniently, as RFC 2045 asks: characters
// outside the alphabet (line ends, spaces) are ignored, data ends at "=".
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
scan:
	for _, c := range b {
		switch {
		case c == '=':
			break scan
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone character holds no whole byte
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean) // clean holds only the alphabet
	return out[:n]
}

// decodeQP decodes quoted-printable: "=XX" is the byte XX, "=" at the end
// of a line joins it to the next, spaces and tabs at the end of a line are
// dropped; anything else (a "=" not followed by two hex digits) is kept as
// it is, as RFC 2045 recommends.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		eol := bytes.Index(b, []byte("\r\n"))
		if eol >= 0 {
			line, b = b[:eol], b[eol+2:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, " \t")
		soft := bytes.HasSuffix(line, []byte("="))
		if soft {
			line = line[:len(line)-1]
		}
		for k := 0; k < len(line); k++ {
			c := line[k]
			if c == '=' && k+2 < len(line) && isHex(line[k+1]) && isHex(line[k+2]) {
				out = append(out, unhex(line[k+1])<<4|unhex(line[k+2]))
				k += 2
				continue
			}
			out = append(out, c)
		}
		if eol >= 0 && !soft {
			out = append(out, '\r', '\n')
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
