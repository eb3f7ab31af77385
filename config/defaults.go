package config

import (
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Defaults returns the configuration used when dmail.conf sets nothing.
// authent_method and invalid_chars depend on the OS (nt_user and
// `\/:*?"<>|` on Windows, unix_user and "/" elsewhere). LogPath is left empty:
// Load derives it from work_path or the config file's directory.
func Defaults() *Config {
	c := &Config{
		AuthentMethod:         "unix_user",
		AuthentTimeout:        10 * time.Second,
		AuthentNumber:         2,
		AuthentCache:          1000,
		ImapdBecomeUser:       true,
		VDomainSeparator:      ".",
		InvalidChars:          "/",
		ImapdEnableNewHashing: true,
		UseFlock:              true,
		MaildirSuffix:         true,
		ImapdTimeout:          1800 * time.Second,
		BulletinFrom:          "Email System Administrator",
		ForwardWindow:         900 * time.Second,
		LogLevel:              "info",
		ImapdTLSMinVersion:    "1.2",
		where:                 make([]origin, len(registry)),

		// Limits (docs/security.md).
		ImapdMaxConnections:      500,
		ImapdMaxConnectionsPerIP: 50,
		ImapdLoginDelay:          2 * time.Second,
		ImapdLoginDelayMax:       30 * time.Second,
		ImapdMaxLoginFailures:    5,
	}
	if runtime.GOOS == "windows" {
		c.AuthentMethod = "nt_user"
		c.InvalidChars = `\/:*?"<>|`
	}
	return c
}

// AuthProcess returns the external authentication command imapd runs:
// imapd_authent_process when set, else authent_process.
func (c *Config) AuthProcess() string {
	if c.ImapdAuthentProcess != "" {
		return c.ImapdAuthentProcess
	}
	return c.AuthentProcess
}

// ListenAddr is the address a daemon (imapd -listen, imapdsvc -listen)
// binds to for its flag: the flag as given when it names a host, else
// dpop_host (when set) with the flag's port. A flag that is only a port
// ("143" or ":143") without dpop_host means every address. A flag that is
// neither is returned as it is (net.Listen says what is wrong with it).
func (c *Config) ListenAddr(flag string) string {
	host, port, err := net.SplitHostPort(flag)
	if err != nil {
		if flag == "" || strings.Trim(flag, "0123456789") != "" {
			return flag
		}
		host, port = "", flag
	}
	if host == "" && c.DpopHost != "" {
		host = c.DpopHost
	}
	return net.JoinHostPort(host, port)
}

// Where returns "file:line" of the line that last set the setting name, or ""
// when it has its default (or name is unknown).
func (c *Config) Where(name string) string {
	d := byName[lowerASCII(name)]
	if d == nil || d.idx >= len(c.where) {
		return ""
	}
	return c.originString(c.where[d.idx])
}

func (c *Config) originString(o origin) string {
	if o.file == 0 || int(o.file) > len(c.Files) {
		return ""
	}
	return c.Files[o.file-1] + ":" + strconv.Itoa(int(o.line))
}

// location returns where a setting was set, or (fallback, 0).
func (c *Config) location(name, fallback string) (string, int) {
	d := byName[name]
	if d == nil || d.idx >= len(c.where) {
		return fallback, 0
	}
	o := c.where[d.idx]
	if o.file == 0 || int(o.file) > len(c.Files) {
		return fallback, 0
	}
	return c.Files[o.file-1], int(o.line)
}
