// Command gen writes docs/settings.md and deploy/dmail.conf.example from
// config.Settings() (see package docscheck). Run it from anywhere inside the
// module: go run ./internal/docscheck/gen [-root DIR].
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"imapd/config"
	"imapd/internal/docscheck"
)

func main() {
	root := flag.String("root", "", "module root (default: the nearest directory above the current one holding go.mod)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	settings := config.Settings()
	files := []struct {
		name  string
		write func(io.Writer, []config.Setting) error
	}{
		{docscheck.SettingsFile, docscheck.WriteSettings},
		{docscheck.ExampleFile, docscheck.WriteExample},
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf, settings); err != nil {
			return fmt.Errorf("render %s: %w", f.name, err)
		}
		path := filepath.Join(root, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", path, err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Println("wrote", path)
	}
	return nil
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory; use -root")
		}
		dir = parent
	}
}
