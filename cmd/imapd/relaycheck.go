package main

import (
	"fmt"
	"io"
	"time"

	"imapd/relay"
)

// relayCheck is imapd -relay-check IP, the forward_user reader for an MTA's
// relay policy: exit 0 and "allowed ..." when IP logged in (IMAP, or
// anything writing the same records) less than forward_window seconds ago,
// exit 1 and "not allowed" otherwise, exit 2 when the question cannot be
// answered (bad address, unusable configuration, unreadable records).
func (a *app) relayCheck(ip string, out, errOut io.Writer) int {
	cfg, _, err := a.load()
	if err != nil {
		fmt.Fprintf(errOut, "imapd: %v\n", err)
		return 2
	}
	path := relay.Path(cfg)
	rec, ok, err := relay.Allowed(path, ip, time.Now(), cfg.ForwardWindow)
	if err != nil {
		fmt.Fprintf(errOut, "imapd: -relay-check: %v\n", err)
		return 2
	}
	if !ok {
		fmt.Fprintf(out, "not allowed: no login from %s in the last %d seconds (%s)\n", ip, int64(cfg.ForwardWindow/time.Second), path)
		return 1
	}
	fmt.Fprintf(out, "allowed: %s logged in from %s at %s\n", rec.User, rec.IP, rec.Time.UTC().Format(time.RFC3339))
	return 0
}
