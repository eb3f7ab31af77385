package auth

import "testing"

func TestYescryptMemory(t *testing.T) {
	for _, c := range []struct {
		hash string
		want int
	}{
		{"$y$j9T$SyGCO6kXUXYfnWeHUHzYx/$EmeNyC5AnEp7lkyqMoGDpbuyN00N9AQkgYb7hsoK7m.", 16 << 20}, // Debian's default: N=4096, r=32
		{"$y$jC5$salt$key", 128 * 8 << 15}, // 'C' is 14: log2 N = 15; '5' is 7: r = 8
		{"$6$salt$key", 0},
		{"$y$x9T$salt$key", 0},
		{"$y$j9$salt$key", 0},
		{"$y$j~T$salt$key", 0},
		{"$y$", 0},
	} {
		if got := yescryptMemory(c.hash); got != c.want {
			t.Errorf("yescryptMemory(%q) = %d, want %d", c.hash, got, c.want)
		}
	}
}

// In a one-session process a yescrypt hash runs on prepared memory that is
// given back afterwards; the answers must not change.
func TestVerifyCryptOneSession(t *testing.T) {
	oneSession.Store(true)
	t.Cleanup(func() { oneSession.Store(false) })
	const hash = "$y$j9T$SyGCO6kXUXYfnWeHUHzYx/$EmeNyC5AnEp7lkyqMoGDpbuyN00N9AQkgYb7hsoK7m."
	for _, c := range []struct {
		pass string
		want bool
	}{{"pa ss", true}, {"pass", false}} {
		ok, err := VerifyCrypt(hash, c.pass)
		if err != nil || ok != c.want {
			t.Errorf("VerifyCrypt(%q) = %v, %v; want %v", c.pass, ok, err, c.want)
		}
	}
}
