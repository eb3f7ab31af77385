package auth

import (
	"crypto/des"
	"encoding/binary"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// Hashes made with mkpasswd(1) (Debian whois 5.5) and openssl passwd (3.0),
// pinned so these run even where the tools are missing.
var pinned = []struct{ pass, hash string }{
	{"test", "kBbGGDYtjXVko"},
	{"pa ss word long", "pe5k7qNqkdO0A"},
	{"x", "XJ1qRsxcVmswI"},
	{"ünïcode!", "lQqqWwGRuzYd2"},
	{"test", "_J9..VhOeaCQ5Xg2o5kA"},
	{"pa ss word long", "_J9..ZMWvmdewMy4ef22"},
	{"x", "_J9..E2ucaU2WLJDnTu6"},
	{"ünïcode!", "_J9..6Olzuov2q9awveo"},
	{"test", "_/...tKDg8hiORxNpw2w"},
	{"pa ss", "$y$j9T$SyGCO6kXUXYfnWeHUHzYx/$EmeNyC5AnEp7lkyqMoGDpbuyN00N9AQkgYb7hsoK7m."},
	{"pa ss", "$2b$05$A6gV.18i6Qz8sUr/nocGguxLo8h7piAx0aw7NzBYpjsizPnmcQr1G"},
	{"pa ss", "$2y$05$A6gV.18i6Qz8sUr/nocGguxLo8h7piAx0aw7NzBYpjsizPnmcQr1G"},
	{"pa ss", "$2a$05$A6gV.18i6Qz8sUr/nocGguxLo8h7piAx0aw7NzBYpjsizPnmcQr1G"},
	{"pa ss", "$md5,rounds=88730$ETrvCSef$$oKHM4ZvfGoktSRUWlwXwA0"},
	{"pa ss", "$1$IDxnL0xu$4h9g10vh7mOpYlxc9P7vj."},
	{"pa ss", "$5$.gC7/77sXlhMiMoI$.0N43EkljZQ7Nu2xoqCJEGhnUt7DSfMOq4UvJqiFGN0"},
	{"pa ss", "$6$8F79Gp5Z44HxNSQg$qpgrg5okeyZFX2ruzSEcyi5IkZ2Eq0Xm3RwnhALi64dFfjlWb3NFgh7rZuYud9aGzJMlJY4ztRHDxUFugeQr61"},
	{"pa ss", "$6$rounds=1000$s2rq7fy8UW5IafoM$OZIpIEM65WILmjclXkf.zA4q8udSej6eE2EjXNxSjbQsSdo44OE9EWPjavrAbtvqbxK7SwYRiE6WjM7DG.0j9/"},
}

func TestVerifyCryptPinned(t *testing.T) {
	t.Parallel()
	for _, c := range pinned {
		ok, err := VerifyCrypt(c.hash, c.pass)
		if err != nil || !ok {
			t.Errorf("VerifyCrypt(%q, %q) = %v, %v; want true", c.hash, c.pass, ok, err)
		}
		ok, err = VerifyCrypt(c.hash, "x"+c.pass)
		if err != nil || ok {
			t.Errorf("VerifyCrypt(%q, wrong) = %v, %v; want false", c.hash, ok, err)
		}
	}
}

// Traditional DES uses only the first 8 bytes; extended DES uses them all.
func TestDESTruncation(t *testing.T) {
	if ok, _ := VerifyCrypt("pe5k7qNqkdO0A", "pa ss wo-anything"); !ok {
		t.Error("traditional DES should ignore bytes after the 8th")
	}
	if ok, _ := VerifyCrypt("_J9..ZMWvmdewMy4ef22", "pa ss wo-anything"); ok {
		t.Error("extended DES must use every byte")
	}
}

func TestVerifyCryptErrors(t *testing.T) {
	for _, h := range []string{"", "!", "!$6$abc$def", "*", "*LK*", "$gy$j9T$abc$def", "$7$CU..../....abc$def", "$3$$abc",
		"$6$", "short", "kBbGGDYtjXVk!", "_J9..VhOeaCQ5Xg2o5k", "_....VhOeaCQ5Xg2o5kA", "$99$x$y"} {
		ok, err := VerifyCrypt(h, "test")
		if ok || err == nil {
			t.Errorf("VerifyCrypt(%q) = %v, %v; want false and an error", h, ok, err)
		}
		if err != nil && strings.Contains(err.Error(), "test") && !strings.Contains(h, "test") {
			t.Errorf("error mentions the password: %v", err)
		}
	}
}

// Our DES with salt 0 is plain DES: compare with crypto/des.
func TestDESMatchesCryptoDES(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		key, block := r.Uint64(), r.Uint64()
		var kb, in, want [8]byte
		binary.BigEndian.PutUint64(kb[:], key)
		binary.BigEndian.PutUint64(in[:], block)
		c, err := des.NewCipher(kb[:])
		if err != nil {
			t.Fatal(err)
		}
		c.Encrypt(want[:], in[:])
		ks := desKeySchedule(key)
		if got := desEncrypt(block, &ks, 0, 1); got != binary.BigEndian.Uint64(want[:]) {
			t.Fatalf("key %016x block %016x: got %016x want %x", key, block, got, want)
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("sec ret")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if !strings.HasPrefix(h, "$6$") || len(parts) != 4 || len(parts[2]) != 16 || len(parts[3]) != 86 {
		t.Fatalf("HashPassword = %q, want $6$<16 salt chars>$<86 chars>", h)
	}
	if ok, err := VerifyCrypt(h, "sec ret"); !ok || err != nil {
		t.Fatalf("own hash does not verify: %v %v", ok, err)
	}
	h2, _ := HashPassword("sec ret")
	if h2 == h {
		t.Fatal("two hashes with the same salt")
	}
	// The system's implementation computes the same hash from the same salt.
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: cannot cross-check with the system's SHA-512 crypt")
	}
	out, err := exec.Command(openssl, "passwd", "-6", "-salt", parts[2], "sec ret").Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != h {
		t.Fatalf("openssl made %q, we made %q", got, h)
	}
}

var toolPasswords = []string{"secret", "pa ss", " lead and trail ", "ünïcode-ß", "12345678901234567890", "a"}

func TestVerifyCryptMkpasswd(t *testing.T) {
	t.Parallel()
	mk, err := exec.LookPath("mkpasswd")
	if err != nil {
		t.Skip("mkpasswd not installed (Debian package whois): cannot test against the system's yescrypt/bcrypt/DES hashes")
	}
	methods := []string{"yescrypt", "bcrypt", "bcrypt-a", "descrypt", "bsdicrypt", "md5crypt", "sha256crypt", "sha512crypt", "sunmd5"}
	for _, m := range methods {
		passwords := toolPasswords
		switch m { // slow by design: a few hundred ms per check
		case "yescrypt":
			passwords = passwords[:2]
		case "sunmd5":
			passwords = passwords[1:2]
		}
		for _, p := range passwords {
			out, err := exec.Command(mk, "-m", m, p).Output()
			if err != nil {
				t.Errorf("mkpasswd -m %s: %v", m, err)
				continue
			}
			h := strings.TrimSpace(string(out))
			if ok, err := VerifyCrypt(h, p); !ok || err != nil {
				t.Errorf("%s: VerifyCrypt(%q, %q) = %v, %v", m, h, p, ok, err)
			}
			if ok, err := VerifyCrypt(h, "!"+p); ok || err != nil {
				t.Errorf("%s: wrong password accepted or error: %v %v", m, ok, err)
			}
		}
	}
	// Non-default costs.
	for _, args := range [][]string{{"-m", "yescrypt", "-R", "3"}, {"-m", "sha512crypt", "-R", "12345"}, {"-m", "bcrypt", "-R", "6"}, {"-m", "bsdicrypt", "-R", "1001"}} {
		out, err := exec.Command(mk, append(args, "pw")...).Output()
		if err != nil {
			t.Errorf("mkpasswd %v: %v", args, err)
			continue
		}
		h := strings.TrimSpace(string(out))
		if ok, err := VerifyCrypt(h, "pw"); !ok || err != nil {
			t.Errorf("mkpasswd %v: VerifyCrypt(%q) = %v, %v", args, h, ok, err)
		}
	}
}

func TestVerifyCryptOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: cannot test against its MD5/SHA crypt hashes")
	}
	for _, alg := range []string{"-1", "-5", "-6"} {
		for _, p := range toolPasswords {
			out, err := exec.Command(openssl, "passwd", alg, p).Output()
			if err != nil {
				t.Fatalf("openssl passwd %s: %v", alg, err)
			}
			h := strings.TrimSpace(string(out))
			if ok, err := VerifyCrypt(h, p); !ok || err != nil {
				t.Errorf("openssl %s: VerifyCrypt(%q, %q) = %v, %v", alg, h, p, ok, err)
			}
			if ok, _ := VerifyCrypt(h, "x"+p); ok {
				t.Errorf("openssl %s: wrong password accepted", alg)
			}
		}
	}
}
