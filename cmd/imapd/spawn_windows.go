package main

import "os/exec"

// setChildAttrs: never used on Windows (no session changes identity there).
func setChildAttrs(cmd *exec.Cmd) {}
