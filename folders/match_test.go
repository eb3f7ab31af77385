package folders

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "a", true},
		{"*", "a/b/c", true},
		{"%", "a", true},
		{"%", "a/b", false},
		{"%/%", "a/b", true},
		{"a/%", "a/b", true},
		{"a/%", "a/b/c", false},
		{"a/*", "a/b/c", true},
		{"a*", "abc", true},
		{"a*", "a/x", true},
		{"a%", "a/x", false},
		{"*c", "a/b/c", true},
		{"a%c", "abc", true},
		{"a%c", "a/c", false},
		{"Entw*", "Entwürfe", true},
		{"%ü%", "Entwürfe", true},
		{"drafts", "Drafts", false}, // case-sensitive
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"**%%", "x/y", true},
	}
	for _, tc := range tests {
		if got := (patternSet{tc.pattern}).match(tc.name); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestBelow(t *testing.T) {
	tests := []struct {
		pattern, prefix string
		want            bool
	}{
		{"*", "a/", true},
		{"%", "a/", false},
		{"a/%", "a/", true},
		{"a/%", "b/", false},
		{"a", "a/", false},
		{"%/x", "a/", true},
		{"a/b/%", "a/", true},
		{"*x", "a/", true},
	}
	for _, tc := range tests {
		if got := (patternSet{tc.pattern}).below(tc.prefix); got != tc.want {
			t.Errorf("below(%q, %q) = %v, want %v", tc.pattern, tc.prefix, got, tc.want)
		}
	}
}

func TestMatchInbox(t *testing.T) {
	for _, p := range []string{"INBOX", "inbox", "InBoX", "in*", "%", "*", "I%X"} {
		if !(patternSet{p}).matchInbox() {
			t.Errorf("pattern %q should match INBOX", p)
		}
	}
	for _, p := range []string{"inbox/%", "x*", "", "INBOX/"} {
		if (patternSet{p}).matchInbox() {
			t.Errorf("pattern %q should not match INBOX", p)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ ref, pattern, want string }{
		{"", "*", "*"},
		{"work/", "%", "work/%"},
		{"work", "%", "work%"}, // UW: plain concatenation
		{"work/", "/etc/*", "/etc/*"},
		{"work/", "~root/*", "~root/*"},
		{"work/", "#news.*", "#news.*"},
	}
	for _, tc := range tests {
		if got := canonical(tc.ref, tc.pattern); got != tc.want {
			t.Errorf("canonical(%q, %q) = %q, want %q", tc.ref, tc.pattern, got, tc.want)
		}
	}
}

// A pattern built to make a backtracking matcher explode is still linear.
func TestMatchHostilePattern(t *testing.T) {
	p := strings.Repeat("*a", 200) + "b"
	name := strings.Repeat("a", 1000)
	if (patternSet{p}).match(name) {
		t.Fatal("should not match")
	}
}
