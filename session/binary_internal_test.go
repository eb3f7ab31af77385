package session

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitMultipart(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"plain", "pre\r\n--b\r\none\r\n--b\r\ntwo\r\n--b--\r\nepi", []string{"one", "two"}},
		{"first line", "--b\r\none\r\n--b--", []string{"one"}},
		{"no close", "--b\r\none\r\n--b\r\ntwo\r\n", []string{"one", "two\r\n"}},
		{"longer boundary", "--b\r\none\r\n--bb\r\nstill one\r\n--b--", []string{"one\r\n--bb\r\nstill one"}},
		{"not at line start", "--b\r\nx --b\r\n--b  \r\ny\r\n--b--", []string{"x --b", "y"}},
		{"empty part", "--b\r\n--b\r\nz\r\n--b--", []string{"", "z"}},
		{"no delimiter", "just text", nil},
		{"close only", "--b--\r\n", nil},
	} {
		var got []string
		for _, p := range splitMultipart([]byte(tc.body), "b") {
			got = append(got, string(p))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDecodeTransfer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"AP8=", "\x00\xff"},
		{"AP8", "\x00\xff"},
		{"A P\r\n8 =", "\x00\xff"},
		{"AP8A=garbage", "\x00\xff\x00"},
		{"QUJD\r\nRA", "ABCD"},
		{"QUJDR", "ABC"}, // a lone last character holds no byte
		{"!!!", ""},
		{"", ""},
	} {
		if got := string(decodeBase64([]byte(tc.in))); got != tc.want {
			t.Errorf("base64 %q: %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"a=3Db", "a=b"},
		{"a=3db", "a=b"},
		{"soft=\r\nbreak", "softbreak"},
		{"hard  \r\nbreak\r\n", "hard\r\nbreak\r\n"},
		{"=\r\n", ""},
		{"bad =G1 and =", "bad =G1 and "},
		{"end=4", "end=4"},
		{"=00=FF", "\x00\xff"},
	} {
		if got := string(decodeQP([]byte(tc.in))); got != tc.want {
			t.Errorf("qp %q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBinaryPartDepth(t *testing.T) {
	msg := []byte("Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nbody")
	if b, err := binaryPart(msg, []int{1, 1}); err != nil || string(b) != "body" {
		t.Errorf("part 1.1: %q %v", b, err)
	}
	deep := make([]int, maxBinaryDepth+1)
	for i := range deep {
		deep[i] = 1
	}
	if b, err := binaryPart(msg, deep); err != nil || b != nil {
		t.Errorf("too deep: %q %v", b, err)
	}
	bad := []byte("Content-Transfer-Encoding: x-\x01weird (comment)\r\n\r\nbody")
	if _, err := binaryPart(bad, []int{1}); err == nil {
		t.Errorf("unknown CTE: no error")
	} else if want := "Cannot decode Content-Transfer-Encoding x-?weird (comment)"; !strings.Contains(err.Error(), want) {
		t.Errorf("unknown CTE: %v, want %q", err, want)
	}
	ok := []byte("Content-Transfer-Encoding:  BASE64 (comment)\r\n\r\nAP8=")
	if b, err := binaryPart(ok, []int{1}); err != nil || string(b) != "\x00\xff" {
		t.Errorf("BASE64 with a comment: %q %v", b, err)
	}
}

// A part named many times is decoded once and kept; memory for the kept
// parts stays within the message's size.
func TestBinaryItemsCache(t *testing.T) {
	msg := []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nAP8=\r\n--b\r\n\r\ntext\r\n--b--\r\n")
	bin := &binaryItems{raw: msg}
	for range 1000 {
		if b := bin.part([]int{1}); string(b) != "\x00\xff" {
			t.Fatalf("part 1: %q", b)
		}
		if b := bin.part([]int{2}); string(b) != "text" {
			t.Fatalf("part 2: %q", b)
		}
	}
	if len(bin.cache) != 2 || bin.cached != 6 {
		t.Errorf("cache: %d parts, %d bytes", len(bin.cache), bin.cached)
	}
	big := &binaryItems{raw: []byte("Subject: x\r\n\r\nbody")}
	big.cached = len(big.raw) // full: not kept, still right
	if b := big.part([]int{1}); string(b) != "body" || len(big.cache) != 0 {
		t.Errorf("full cache: %q, %d kept", b, len(big.cache))
	}
}
