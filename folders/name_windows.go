//go:build windows

package folders

import "strings"

// osCheckComponent refuses on-disk level names Windows would not store as
// given: characters it forbids (":" would also open an alternate data
// stream), trailing dots and spaces (silently dropped, so "a." would be
// "a"), and device names (NUL, CON, COM1 ...), with or without an extension.
func osCheckComponent(enc string) string {
	if strings.ContainsAny(enc, `:*?"<>|`) {
		return `the characters : * ? " < > | are not allowed`
	}
	if strings.HasSuffix(enc, ".") || strings.HasSuffix(enc, " ") {
		return "a level may not end in a dot or a space"
	}
	base := enc
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return "the name is reserved by Windows"
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		base[3] >= '0' && base[3] <= '9' {
		return "the name is reserved by Windows"
	}
	return ""
}

// sameDiskName compares on-disk names the way the file system does
// (NTFS ignores case).
func sameDiskName(a, b string) bool { return strings.EqualFold(a, b) }
