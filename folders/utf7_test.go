package folders

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var utf7Pairs = []struct{ utf8, mutf7 string }{
	{"", ""},
	{"INBOX", "INBOX"},
	{"Entwürfe", "Entw&APw-rfe"},
	{"R&D", "R&-D"},
	{"&", "&-"},
	{"&&", "&-&-"},
	{"a b~c", "a b~c"},
	{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, // RFC 3501 example
	{"äö", "&AOQA9g-"},
	{"ä&ö", "&AOQ-&-&APY-"},
	{"Ünïcödé", "&ANw-n&AO8-c&APY-d&AOk-"},
	{"😀", "&2D3eAA-"}, // surrogate pair
	{"x😀y€", "x&2D3eAA-y&IKw-"},
	{"\x00", "&AAA-"},
	{"\t", "&AAk-"},
	{"\x7f", "&AH8-"},
}

func TestMUTF7Pairs(t *testing.T) {
	for _, p := range utf7Pairs {
		if got := encodeMUTF7(p.utf8); got != p.mutf7 {
			t.Errorf("encode(%q) = %q, want %q", p.utf8, got, p.mutf7)
		}
		got, err := decodeMUTF7(p.mutf7)
		if err != nil || got != p.utf8 {
			t.Errorf("decode(%q) = %q, %v; want %q", p.mutf7, got, err, p.utf8)
		}
	}
}

func TestMUTF7DecodeRejects(t *testing.T) {
	for _, s := range []string{
		"&",          // unterminated
		"a&Jjo",      // unterminated
		"&Jjo!-",     // bad base64 character
		"&AGE-",      // "a" must not be encoded
		"&ACY-",      // "&" must be "&-"
		"&AOQ-&APY-", // two runs in a row: canonical is "&AOQA9g-"
		"&AOR-",      // non-zero padding bits
		"&AO-",       // odd byte count
		"&2D0-",      // lone high surrogate
		"&3gA-",      // lone low surrogate
		"&2D3YPQ-",   // high surrogate followed by high surrogate
		"&A-",        // impossible length
		"caf\xe9",    // 8-bit byte
		"a\tb",       // control character
		"a\x7fb",     // DEL
		"&AOQ=-",     // padding
		"&AOQA9g==-", // padding
		"&,,,-",      // odd bytes / padding bits
		"&AO\rQ-",    // CR inside base64 (encoding/base64 would skip it)
	} {
		if got, err := decodeMUTF7(s); err == nil {
			t.Errorf("decode(%q) = %q, want an error", s, got)
		} else if !errors.Is(err, errUTF7) {
			t.Errorf("decode(%q) error %v does not wrap errUTF7", s, err)
		}
	}
}

func TestMUTF7RoundTripAllBMP(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		b.WriteRune(r)
		if r%97 == 0 {
			b.WriteByte('&')
		}
	}
	b.WriteString("\U0001F600\U0010FFFF\U00010000")
	s := b.String()
	enc := encodeMUTF7(s)
	if !printableASCII(enc) {
		t.Fatal("encoding is not printable ASCII")
	}
	dec, err := decodeMUTF7(enc)
	if err != nil || dec != s {
		t.Fatalf("round trip failed: %v", err)
	}
}

// FuzzMUTF7Encode: any valid UTF-8 string round-trips, and the encoding is
// printable ASCII.
func FuzzMUTF7Encode(f *testing.F) {
	for _, p := range utf7Pairs {
		f.Add(p.utf8)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		enc := encodeMUTF7(s)
		if !printableASCII(enc) {
			t.Fatalf("encode(%q) = %q: not printable ASCII", s, enc)
		}
		dec, err := decodeMUTF7(enc)
		if err != nil || dec != s {
			t.Fatalf("decode(encode(%q)) = %q, %v", s, dec, err)
		}
	})
}

// FuzzMUTF7Decode: the decoder never panics, and accepts only canonical
// input: encode(decode(s)) == s.
func FuzzMUTF7Decode(f *testing.F) {
	for _, p := range utf7Pairs {
		f.Add(p.mutf7)
	}
	f.Add("&AOQ-&APY-")
	f.Add("&2D0-")
	f.Add("&AGE-")
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := decodeMUTF7(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(dec) {
			t.Fatalf("decode(%q) = %q: invalid UTF-8", s, dec)
		}
		if enc := encodeMUTF7(dec); enc != s {
			t.Fatalf("decode(%q) = %q, which encodes to %q", s, dec, enc)
		}
	})
}
