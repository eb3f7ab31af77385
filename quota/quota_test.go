package quota

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/config"
	"imapd/internal/testdir"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		name   string
		q      config.Quota
		others []config.Entry
		info   string
		kb     int64
		ok     bool
	}{
		{"off", config.Quota{}, nil, "quota=5", 0, false},
		{"number", config.Quota{Enabled: true, KBytes: 500}, nil, "", 500, true},
		{"number, info wins", config.Quota{Enabled: true, KBytes: 500}, nil, "x QUOTA=70 y", 70, true},
		{"true, from info", config.Quota{Enabled: true}, nil, "quota=100 more info", 100, true},
		{"true, info zero is unlimited", config.Quota{Enabled: true, KBytes: 500}, nil, "quota=0", 0, false},
		{"true, bad info ignored", config.Quota{Enabled: true, KBytes: 500}, nil, "quota=-3 quota=lots", 500, true},
		{"true, drop_max", config.Quota{Enabled: true}, []config.Entry{{Name: "drop_max", Value: "20000"}}, "", 20000, true},
		{"true, nothing", config.Quota{Enabled: true}, nil, "info only", 0, false},
	} {
		cfg := config.Defaults()
		cfg.UserQuota, cfg.Others = c.q, c.others
		kb, ok := Limit(cfg, c.info)
		if kb != c.kb || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.name, kb, ok, c.kb, c.ok)
		}
	}
}

func write(t *testing.T, path string, n int) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(strings.Repeat("x", n)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	dir := testdir.New(t)
	drop := filepath.Join(dir, "alice")
	root := drop + ".mbx"
	u := NewUsage(drop, root)
	now := time.Unix(1767225600, 0)
	u.now = func() time.Time { return now }
	if n, err := u.Bytes(); n != 0 || err != nil {
		t.Fatalf("nothing yet: %d %v", n, err)
	}
	write(t, drop, 1000)
	write(t, filepath.Join(root, "Saved"), 300)
	write(t, filepath.Join(root, "work", "2026"), 200)
	now = now.Add(Rescan)
	if n, _ := u.Bytes(); n != 1500 {
		t.Fatalf("after a walk: %d", n)
	}
	// Delivery to the drop file: seen at once.
	write(t, drop, 5000)
	if n, _ := u.Bytes(); n != 5500 {
		t.Errorf("after delivery: %d", n)
	}
	// Another program's change to a folder: seen after Rescan.
	write(t, filepath.Join(root, "Saved"), 900)
	if n, _ := u.Bytes(); n != 5500 {
		t.Errorf("cached: %d", n)
	}
	// The session's own write: seen at once.
	write(t, filepath.Join(root, "work", "2026"), 400)
	u.Wrote(filepath.Join(root, "work", "2026"))
	if n, _ := u.Bytes(); n != 5500+200 {
		t.Errorf("after Wrote: %d", n)
	}
	now = now.Add(Rescan)
	if n, _ := u.Bytes(); n != 5000+900+400 {
		t.Errorf("after Rescan: %d", n)
	}
	// A new file the session wrote to, then removed.
	write(t, filepath.Join(root, "New"), 50)
	u.Wrote(filepath.Join(root, "New"))
	if n, _ := u.Bytes(); n != 6350 {
		t.Errorf("new folder: %d", n)
	}
	os.Remove(filepath.Join(root, "New"))
	u.Wrote(filepath.Join(root, "New"))
	if n, _ := u.Bytes(); n != 6300 {
		t.Errorf("removed folder: %d", n)
	}
	if KB(0) != 0 || KB(1) != 1 || KB(1024) != 1 || KB(1025) != 2 {
		t.Error("KB rounding")
	}
}
