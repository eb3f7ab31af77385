package server

import (
	"bytes"
	"strings"
	"testing"
)

// The output drops the ESEARCH line of a SEARCH RETURN (SAVE), however
// long and however go-imap's writes cut it, and nothing else: other
// untagged lines before it, and ESEARCH lines of later commands, pass.
func TestOutputDropsESearch(t *testing.T) {
	long := "* ESEARCH (TAG \"s1\") ALL " + strings.Repeat("1,3,", 5000) + "5\r\n"
	in := "* 3 EXISTS\r\n" + long + "* 4 EXISTS\r\ns1 OK SEARCH completed\r\n" +
		"* ESEARCH (TAG \"s2\") ALL 1\r\ns2 OK SEARCH completed\r\n"
	want := "* 3 EXISTS\r\n* 4 EXISTS\r\ns1 OK SEARCH completed\r\n" +
		"* ESEARCH (TAG \"s2\") ALL 1\r\ns2 OK SEARCH completed\r\n"
	for _, n := range []int{1, 2, 7, 64, 4096, len(in)} {
		var buf bytes.Buffer
		o := newOutput(&buf, nil)
		o.first = false
		o.dropESearch()
		for i := 0; i < len(in); i += n {
			if _, err := o.Write([]byte(in[i:min(i+n, len(in))])); err != nil {
				t.Fatal(err)
			}
		}
		if got := buf.String(); got != want {
			t.Errorf("chunks of %d: got %.300q", n, got)
		}
	}
}
