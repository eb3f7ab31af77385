package auth

import (
	"crypto/subtle"
	"fmt"
	"strings"
)

// DES-based crypt(3): the traditional 13-character form and BSDi's extended
// "_" form. No maintained Go library implements them (go-crypt/crypt, which
// covers the other schemes, does not), and crypto/des cannot be used because
// crypt's salt changes DES's expansion permutation; so this file has its own
// small DES, written from FIPS 46-3. It is tested against crypto/des (salt
// 0) and against hashes made by mkpasswd(1).
//
// Traditional: key = the first 8 password bytes, each shifted left by one;
// 12-bit salt from the 2 salt characters (first character = low 6 bits);
// salt bit i set swaps bits i and i+24 of every expansion output; a zero block
// is encrypted 25 times; the 64 result bits become 11 characters, 6 bits each,
// most significant first, in the alphabet ./0-9A-Za-z.
//
// Extended (_CCCCSSSS): 24-bit count and salt, 4 characters each, low 6 bits
// first; every password byte counts: after the first 8, the key is encrypted
// with itself and XORed with the next 8 (shifted left by one), and so on.

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func a64(c byte) (uint32, bool) {
	switch {
	case c == '.' || c == '/':
		return uint32(c - '.'), true
	case c >= '0' && c <= '9':
		return uint32(c-'0') + 2, true
	case c >= 'A' && c <= 'Z':
		return uint32(c-'A') + 12, true
	case c >= 'a' && c <= 'z':
		return uint32(c-'a') + 38, true
	}
	return 0, false
}

// FIPS 46-3 tables; positions count from 1 = most significant bit.
var (
	desIP = [64]byte{
		58, 50, 42, 34, 26, 18, 10, 2,
		60, 52, 44, 36, 28, 20, 12, 4,
		62, 54, 46, 38, 30, 22, 14, 6,
		64, 56, 48, 40, 32, 24, 16, 8,
		57, 49, 41, 33, 25, 17, 9, 1,
		59, 51, 43, 35, 27, 19, 11, 3,
		61, 53, 45, 37, 29, 21, 13, 5,
		63, 55, 47, 39, 31, 23, 15, 7,
	}
	desE = [48]byte{
		32, 1, 2, 3, 4, 5,
		4, 5, 6, 7, 8, 9,
		8, 9, 10, 11, 12, 13,
		12, 13, 14, 15, 16, 17,
		16, 17, 18, 19, 20, 21,
		20, 21, 22, 23, 24, 25,
		24, 25, 26, 27, 28, 29,
		28, 29, 30, 31, 32, 1,
	}
	desP = [32]byte{
		16, 7, 20, 21, 29, 12, 28, 17,
		1, 15, 23, 26, 5, 18, 31, 10,
		2, 8, 24, 14, 32, 27, 3, 9,
		19, 13, 30, 6, 22, 11, 4, 25,
	}
	desPC1 = [56]byte{
		57, 49, 41, 33, 25, 17, 9,
		1, 58, 50, 42, 34, 26, 18,
		10, 2, 59, 51, 43, 35, 27,
		19, 11, 3, 60, 52, 44, 36,
		63, 55, 47, 39, 31, 23, 15,
		7, 62, 54, 46, 38, 30, 22,
		14, 6, 61, 53, 45, 37, 29,
		21, 13, 5, 28, 20, 12, 4,
	}
	desPC2 = [48]byte{
		14, 17, 11, 24, 1, 5,
		3, 28, 15, 6, 21, 10,
		23, 19, 12, 4, 26, 8,
		16, 7, 27, 20, 13, 2,
		41, 52, 31, 37, 47, 55,
		30, 40, 51, 45, 33, 48,
		44, 49, 39, 56, 34, 53,
		46, 42, 50, 36, 29, 32,
	}
	desShifts = [16]byte{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}
	desS      = [8][64]byte{
		{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
			0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
			4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
			15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
		{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
			3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
			0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
			13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
		{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
			13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
			13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
			1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
		{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
			13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
			10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
			3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
		{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
			14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
			4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
			11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
		{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
			10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
			9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
			4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
		{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
			13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
			1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
			6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
		{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
			1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
			7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
			2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
	}
	desFP = func() (fp [64]byte) {
		for i, p := range desIP {
			fp[p-1] = byte(i + 1)
		}
		return fp
	}()
)

// permute picks the bits of in (width bits wide) named by table.
func permute(in uint64, width int, table []byte) uint64 {
	var out uint64
	for _, pos := range table {
		out = out<<1 | (in>>(width-int(pos)))&1
	}
	return out
}

// desKeySchedule returns the 16 round keys (48 bits each) of a 64-bit key.
func desKeySchedule(key uint64) (ks [16]uint64) {
	cd := permute(key, 64, desPC1[:])
	c, d := uint32(cd>>28), uint32(cd&0x0fffffff)
	for i, s := range desShifts {
		c = (c<<s | c>>(28-s)) & 0x0fffffff
		d = (d<<s | d>>(28-s)) & 0x0fffffff
		ks[i] = permute(uint64(c)<<28|uint64(d), 56, desPC2[:])
	}
	return ks
}

// desEncrypt encrypts block count times with round keys ks; saltMask (24
// bits, bit 23 = expansion position 0) swaps expansion bits i and i+24.
func desEncrypt(block uint64, ks *[16]uint64, saltMask uint32, count int) uint64 {
	for ; count > 0; count-- {
		b := permute(block, 64, desIP[:])
		l, r := uint32(b>>32), uint32(b)
		for i := 0; i < 16; i++ {
			e := permute(uint64(r), 32, desE[:])
			left, right := uint32(e>>24), uint32(e&0xffffff)
			t := (left ^ right) & saltMask
			e = uint64(left^t)<<24 | uint64(right^t)
			x := e ^ ks[i]
			var s uint64
			for j := 0; j < 8; j++ {
				six := (x >> (42 - 6*j)) & 0x3f
				row := (six>>4)&2 | six&1
				col := (six >> 1) & 0xf
				s = s<<4 | uint64(desS[j][row*16+col])
			}
			f := uint32(permute(s, 32, desP[:]))
			l, r = r, l^f
		}
		block = permute(uint64(r)<<32|uint64(l), 64, desFP[:])
	}
	return block
}

// saltMask turns an n-bit crypt salt (bit 0 first) into desEncrypt's mask.
func saltMask(salt uint32, bits int) uint32 {
	var m uint32
	for i := 0; i < bits; i++ {
		if salt&(1<<i) != 0 {
			m |= 1 << (23 - i)
		}
	}
	return m
}

// keyBlock packs up to 8 password bytes, each shifted left by one.
func keyBlock(p string) uint64 {
	var k uint64
	for i := 0; i < 8; i++ {
		var c byte
		if i < len(p) {
			c = p[i]
		}
		k = k<<8 | uint64(c<<1)
	}
	return k
}

func encode64(block uint64) string {
	var b [11]byte
	for i := 0; i < 10; i++ {
		b[i] = cryptAlphabet[(block>>(58-6*i))&0x3f]
	}
	b[10] = cryptAlphabet[(block&0xf)<<2]
	return string(b[:])
}

// cString cuts p at its first NUL, as C's crypt(3) sees it.
func cString(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		return p[:i]
	}
	return p
}

// desCrypt computes the traditional DES crypt of password with a 2-character salt.
func desCrypt(password, salt string) (string, error) {
	if len(salt) < 2 {
		return "", fmt.Errorf("DES crypt: salt too short")
	}
	s0, ok0 := a64(salt[0])
	s1, ok1 := a64(salt[1])
	if !ok0 || !ok1 {
		return "", fmt.Errorf("DES crypt: invalid salt characters")
	}
	ks := desKeySchedule(keyBlock(cString(password)))
	out := desEncrypt(0, &ks, saltMask(s0|s1<<6, 12), 25)
	return salt[:2] + encode64(out), nil
}

// extDESCrypt computes BSDi extended DES crypt; setting is "_" + 4 count + 4 salt characters.
func extDESCrypt(password, setting string) (string, error) {
	if len(setting) < 9 || setting[0] != '_' {
		return "", fmt.Errorf("extended DES crypt: malformed setting")
	}
	var count, salt uint32
	for i := 0; i < 4; i++ {
		c, ok := a64(setting[1+i])
		s, ok2 := a64(setting[5+i])
		if !ok || !ok2 {
			return "", fmt.Errorf("extended DES crypt: invalid setting characters")
		}
		count |= c << (6 * i)
		salt |= s << (6 * i)
	}
	if count == 0 {
		return "", fmt.Errorf("extended DES crypt: zero rounds")
	}
	p := cString(password)
	key := keyBlock(p)
	for rest := p[min(len(p), 8):]; rest != ""; rest = rest[min(len(rest), 8):] {
		ks := desKeySchedule(key)
		key = desEncrypt(key, &ks, 0, 1) ^ keyBlock(rest)
	}
	ks := desKeySchedule(key)
	out := desEncrypt(0, &ks, saltMask(salt, 24), int(count))
	return setting[:9] + encode64(out), nil
}

func verifyDES(hash, password string) (bool, error) {
	if len(hash) != 13 {
		return false, fmt.Errorf("unsupported password hash (%d characters, no $id$ prefix)", len(hash))
	}
	for i := 0; i < len(hash); i++ {
		if _, ok := a64(hash[i]); !ok {
			return false, fmt.Errorf("malformed DES crypt hash")
		}
	}
	got, err := desCrypt(password, hash[:2])
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1, nil
}

func verifyExtDES(hash, password string) (bool, error) {
	if len(hash) != 20 {
		return false, fmt.Errorf("malformed extended DES crypt hash")
	}
	for i := 1; i < len(hash); i++ {
		if _, ok := a64(hash[i]); !ok {
			return false, fmt.Errorf("malformed extended DES crypt hash")
		}
	}
	got, err := extDESCrypt(password, hash[:9])
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1, nil
}
