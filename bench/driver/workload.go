package main

import (
	"fmt"
	"math/rand"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// workload is the client side of one run. Every step is timed from the
// command's sending to its tagged answer, responses read and decoded.
func workload(o *options, srv *server, count int, res *result, smp *sampler) error {
	rng := rand.New(rand.NewSource(o.seed))
	timed := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		res.Steps = append(res.Steps, step{Name: name, Dur: time.Since(start), Suite: "steps"})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	smp.mark("session")
	var c *imapclient.Client
	if err := timed("connect + greeting", func() (err error) {
		c, err = imapclient.DialInsecure(srv.addr, nil)
		if err != nil {
			return err
		}
		return c.WaitGreeting()
	}); err != nil {
		return err
	}
	defer c.Close()
	if err := timed("LOGIN", func() error { return c.Login(benchUser, benchPassword).Wait() }); err != nil {
		return err
	}
	var sel *imap.SelectData
	if err := timed("SELECT INBOX (first: stamps UIDs / builds index)", func() (err error) {
		sel, err = c.Select("INBOX", nil).Wait()
		return err
	}); err != nil {
		return err
	}
	res.Checks["SELECT EXISTS"] = fmt.Sprint(sel.NumMessages)
	if int(sel.NumMessages) != count {
		return fmt.Errorf("SELECT says %d messages, the mbox has %d", sel.NumMessages, count)
	}
	if err := timed("SELECT INBOX again", func() (err error) {
		sel, err = c.Select("INBOX", nil).Wait()
		return err
	}); err != nil {
		return err
	}
	// Not in the brief's list: isolates the fixed cost of a command
	// (imapd checks and saves the mailbox after every command).
	if err := timed(fmt.Sprintf("NOOP x%d (fixed cost per command)", o.noops), func() error {
		for i := 0; i < o.noops; i++ {
			if err := c.Noop().Wait(); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	all := imap.SeqSet{}
	all.AddRange(1, 0) // 1:*
	if err := timed("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)", func() error {
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: true}).Collect()
		if err != nil {
			return err
		}
		var size int64
		for _, m := range msgs {
			size += m.RFC822Size
		}
		res.Checks["FETCH 1:* messages"] = fmt.Sprint(len(msgs))
		res.Checks["sum of RFC822.SIZE"] = fmt.Sprint(size)
		if len(msgs) != count {
			return fmt.Errorf("%d messages, want %d", len(msgs), count)
		}
		return nil
	}); err != nil {
		return err
	}
	bodies := rng.Perm(count)[:min(o.bodies, count)]
	if err := timed(fmt.Sprintf("FETCH BODY.PEEK[] x%d (random, one command each)", len(bodies)), func() error {
		var total int
		for _, i := range bodies {
			msgs, err := c.Fetch(imap.SeqSetNum(uint32(i+1)), &imap.FetchOptions{
				BodySection: []*imap.FetchItemBodySection{{Peek: true}},
			}).Collect()
			if err != nil {
				return err
			}
			if len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
				return fmt.Errorf("message %d: no body", i+1)
			}
			total += len(msgs[0].BodySection[0].Bytes)
		}
		res.Checks["body bytes fetched"] = fmt.Sprint(total)
		return nil
	}); err != nil {
		return err
	}
	if err := timed(`STORE 1:* +FLAGS (\Seen)`, func() error {
		return c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	}); err != nil {
		return err
	}
	singles := rng.Perm(count)[:min(o.singles, count)]
	if err := timed(fmt.Sprintf(`STORE n +FLAGS (\Flagged) x%d (one command each)`, len(singles)), func() error {
		for _, i := range singles {
			if err := c.Store(imap.SeqSetNum(uint32(i+1)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
				return fmt.Errorf("message %d: %w", i+1, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := timed(fmt.Sprintf("SEARCH SUBJECT %q", o.search), func() error {
		data, err := c.Search(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: o.search}}}, nil).Wait()
		if err != nil {
			return err
		}
		res.Checks["SEARCH hits"] = fmt.Sprint(len(data.AllSeqNums()))
		return nil
	}); err != nil {
		return err
	}
	if err := timed("CREATE Archive", func() error { return c.Create("Archive", nil).Wait() }); err != nil {
		return err
	}
	first := imap.SeqSet{}
	first.AddRange(1, uint32(o.copyN))
	if err := timed(fmt.Sprintf("COPY 1:%d Archive", o.copyN), func() error {
		_, err := c.Copy(first, "Archive").Wait()
		return err
	}); err != nil {
		return err
	}
	del := imap.SeqSet{}
	del.AddRange(1, uint32(o.expungeN))
	if err := timed(fmt.Sprintf(`STORE 1:%d +FLAGS.SILENT (\Deleted); EXPUNGE`, o.expungeN), func() error {
		if err := c.Store(del, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		n, err := c.Expunge().Collect()
		res.Checks["EXPUNGE responses"] = fmt.Sprint(len(n))
		return err
	}); err != nil {
		return err
	}
	// Untimed checks of what the steps left.
	if st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait(); err == nil && st.NumMessages != nil {
		res.Checks["Archive messages"] = fmt.Sprint(*st.NumMessages)
	} else {
		res.Checks["Archive messages"] = fmt.Sprintf("STATUS failed: %v", err)
	}
	if data, err := c.Search(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, nil).Wait(); err == nil {
		res.Checks[`\Flagged after EXPUNGE`] = fmt.Sprint(len(data.AllSeqNums()))
	}
	if err := timed("LOGOUT", func() error { return c.Logout().Wait() }); err != nil {
		return err
	}
	c.Close()

	// STORE 1:* once more, its answers read as bytes, not decoded, on a
	// new connection now that the first one is gone: the decoding of
	// thousands of FETCH lines by the driver's go-imap is most of the
	// decoded step above and the same for every server; this is the
	// server's part. It takes the \Seen flags off again, which no later
	// step or check looks at.
	left := count - o.expungeN
	d, lines, err := rawCommand(srv.addr, "SELECT INBOX", `STORE 1:* -FLAGS (\Seen)`)
	if err != nil {
		return fmt.Errorf("STORE (raw): %w", err)
	}
	// Not in the total of the steps: it repeats one of them.
	addStep(res, "steps, raw", fmt.Sprintf(`STORE 1:* -FLAGS (\Seen) of the %d left, responses read, not decoded`, left), d)
	res.Checks["STORE lines (raw)"] = fmt.Sprint(lines)
	if lines != left {
		return fmt.Errorf("STORE 1:* (raw): %d FETCH lines, want %d", lines, left)
	}

	smp.mark("concurrent")
	err = timed(fmt.Sprintf("%d concurrent: connect, LOGIN, EXAMINE INBOX, FETCH last 50 ENVELOPE, LOGOUT", o.conc), func() error {
		var wg sync.WaitGroup
		errs := make(chan error, o.conc)
		for i := 0; i < o.conc; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- shortSession(srv.addr, left)
			}()
		}
		wg.Wait()
		return firstError(errs)
	})
	smp.mark("")
	return err
}

// shortSession is one of the concurrent clients. It uses EXAMINE: with UW
// semantics (which imapd keeps) a second read-write SELECT of a mailbox
// makes the earlier holder let go, so concurrent SELECTs of one INBOX would
// measure sessions being thrown out, not serving.
func shortSession(addr string, count int) error {
	c, err := dialLogin(addr, benchUser, benchPassword)
	if err != nil {
		return err
	}
	defer c.Close()
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("EXAMINE: %w", err)
	}
	if int(sel.NumMessages) != count {
		return fmt.Errorf("EXAMINE says %d messages, want %d", sel.NumMessages, count)
	}
	last := imap.SeqSet{}
	last.AddRange(uint32(count-49), uint32(count))
	msgs, err := c.Fetch(last, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		return fmt.Errorf("FETCH: %w", err)
	}
	if len(msgs) != 50 {
		return fmt.Errorf("FETCH: %d messages, want 50", len(msgs))
	}
	return c.Logout().Wait()
}
