//go:build !windows

package folders

// osCheckComponent: nothing more to refuse on this OS (the separator, NUL,
// "." and ".." are refused for every OS by checkComponent).
func osCheckComponent(enc string) string { return "" }

// sameDiskName compares on-disk names.
func sameDiskName(a, b string) bool { return a == b }
