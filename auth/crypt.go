package auth

import (
	"fmt"
	"strings"

	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/md5crypt"
	"github.com/go-crypt/crypt/algorithm/scrypt"
	"github.com/go-crypt/crypt/algorithm/sha1crypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// crypt(3) verification.
//
// Schemes, by prefix of the stored hash:
//
//	$y$               yescrypt (libxcrypt; Debian, Ubuntu, Fedora default)   github.com/go-crypt/crypt
//	$6$ $5$           SHA-512 / SHA-256 crypt, optional rounds=N              github.com/go-crypt/crypt
//	$1$               MD5 crypt                                              github.com/go-crypt/crypt
//	$md5$ $md5,       Sun MD5 (Solaris)                                       github.com/go-crypt/crypt
//	$2a$ $2b$ $2y$    bcrypt                                                 github.com/go-crypt/crypt
//	$sha1$            NetBSD SHA-1 crypt                                     github.com/go-crypt/crypt
//	_CCCCSSSS...      BSDi extended DES (FreeBSD/NetBSD)                     descrypt.go (ours)
//	13 chars          traditional DES                                        descrypt.go (ours)
//
// Not supported (VerifyCrypt returns an error): $gy$ (GOST yescrypt), $7$
// (scrypt), $3$ (NT hash), and anything else.

// decode parses a "$id$..." hash with the algorithm package its
// identifier names. (Not through the root package github.com/go-crypt/crypt:
// its registry would cost every process start a regexp compilation and
// the imports of database/sql and every algorithm, for nothing: the
// identifiers are fixed.)
func decode(hash string) (algorithm.Digest, error) {
	if strings.HasPrefix(hash, "$md5,") { // Sun MD5 with its rounds in the identifier
		return md5crypt.Decode(hash)
	}
	id, _, ok := strings.Cut(hash[1:], "$")
	if !ok {
		return nil, fmt.Errorf("%w: no identifier", algorithm.ErrEncodedHashInvalidFormat)
	}
	switch id {
	case "6":
		return shacrypt.DecodeVariant(shacrypt.VariantSHA512)(hash)
	case "5":
		return shacrypt.DecodeVariant(shacrypt.VariantSHA256)(hash)
	case "1", "md5":
		return md5crypt.Decode(hash)
	case "2", "2a", "2b", "2x", "2y":
		return bcrypt.DecodeVariant(bcrypt.VariantStandard)(hash)
	case "bcrypt-sha256":
		return bcrypt.DecodeVariant(bcrypt.VariantSHA256)(hash)
	case "y", "scrypt":
		return scrypt.Decode(hash)
	case "sha1":
		return sha1crypt.Decode(hash)
	}
	return nil, fmt.Errorf("%w: the identifier %q is unknown", algorithm.ErrEncodedHashInvalidIdentifier, id)
}

// VerifyCrypt reports whether password matches a crypt(3) hash as found in
// /etc/shadow and friends. It returns an error, and false, for an empty,
// locked ("!" or "*" prefix), malformed or unsupported hash. Comparisons are
// constant-time.
func VerifyCrypt(hash, password string) (bool, error) {
	switch {
	case hash == "":
		return false, fmt.Errorf("empty password hash")
	case hash[0] == '!' || hash[0] == '*':
		return false, fmt.Errorf("password is locked")
	case hash[0] == '_':
		return verifyExtDES(hash, password)
	case hash[0] != '$':
		return verifyDES(hash, password)
	}
	digest, err := decode(hash)
	if err != nil {
		id := hash
		if i := strings.IndexByte(hash[1:], '$'); i >= 0 {
			id = hash[:i+2]
		} else if len(id) > 4 {
			id = id[:4]
		}
		return false, fmt.Errorf("crypt hash %q...: %w", id, err)
	}
	release := beforeHash(hash)
	ok, err := digest.MatchAdvanced(password)
	afterHash(release)
	if err != nil {
		return false, fmt.Errorf("crypt verify: %w", err)
	}
	return ok, nil
}

// HashPassword returns a SHA-512 crypt hash ("$6$" + 16 random salt
// characters) of password with the traditional 5000 rounds, the form
// `openssl passwd -6` and `mkpasswd -m sha512crypt` write and every current
// crypt(3) reads.
func HashPassword(password string) (string, error) {
	h, err := shacrypt.New(shacrypt.WithSHA512(), shacrypt.WithIterations(shacrypt.IterationsDefaultOmitted), shacrypt.WithSaltLength(16))
	if err != nil {
		return "", fmt.Errorf("sha512 crypt: %w", err)
	}
	d, err := h.Hash(password)
	if err != nil {
		return "", fmt.Errorf("sha512 crypt: %w", err)
	}
	return d.Encode(), nil
}
