//go:build !unix

package spawn

func pgid() string { return "none" }
