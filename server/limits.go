package server

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"imapd/logging"
)

// Connection caps of a -listen daemon (imapd_max_connections,
// imapd_max_connections_per_ip). See docs/security.md for why these values.
const (
	DefaultMaxConnections      = 500
	DefaultMaxConnectionsPerIP = 50
)

// ByeTooMany is what a refused connection is told before it is closed.
const ByeTooMany = "* BYE Too many connections"

// refusalLogEvery bounds the refusal lines in the log: at most
// refusalLogBurst lines in each such period, the rest counted and reported
// with the next line written.
const (
	refusalLogEvery = time.Second
	refusalLogBurst = 5
	refusalWrite    = time.Second // bounds the write of ByeTooMany
)

// Limiter counts the live connections of a daemon, overall and per client
// address, and refuses those over its caps. It sits before everything else:
// a refused connection never gets a session, an authenticator or a session
// process. One Limiter serves the goroutine sessions and the session
// processes of a -listen daemon alike.
type Limiter struct {
	log *logging.Logger

	mu     sync.Mutex
	max    int // 0 = no cap
	perIP  int // 0 = no cap
	total  int
	byAddr map[string]int

	logStart   time.Time // start of the current log period
	logged     int       // refusal lines written in it
	suppressed int       // refusals not logged since the last line
}

// NewLimiter returns a Limiter with the given caps (0: no cap); refusals are
// logged to log.
func NewLimiter(log *logging.Logger, max, perIP int) *Limiter {
	return &Limiter{log: log, max: max, perIP: perIP, byAddr: make(map[string]int)}
}

// SetLimits changes the caps (0: no cap) for the connections admitted from
// now on; live ones are never cut.
func (l *Limiter) SetLimits(max, perIP int) {
	l.mu.Lock()
	l.max, l.perIP = max, perIP
	l.mu.Unlock()
}

// Admit counts c live and returns the function that ends that (call it
// exactly once, when the connection or its session process is gone; more
// calls do nothing). A connection over a cap is told ByeTooMany, closed,
// logged (rate-limited) and ok is false.
func (l *Limiter) Admit(c net.Conn) (release func(), ok bool) {
	key, ip := ClientKey(c.RemoteAddr()), ClientIP(c.RemoteAddr())
	l.mu.Lock()
	why := ""
	switch {
	case l.max > 0 && l.total >= l.max:
		why = "the server has " + itoa(l.total) + " (imapd_max_connections " + itoa(l.max) + ")"
	case l.perIP > 0 && l.byAddr[key] >= l.perIP:
		why = "the address has " + itoa(l.byAddr[key]) + " (imapd_max_connections_per_ip " + itoa(l.perIP) + ")"
		if strings.Contains(key, "/") {
			why = "its " + key + " has " + itoa(l.byAddr[key]) + " (imapd_max_connections_per_ip " + itoa(l.perIP) + ")"
		}
	}
	if why != "" {
		l.refusedLocked(ip, why, time.Now())
		l.mu.Unlock()
		c.SetWriteDeadline(time.Now().Add(refusalWrite))
		io.WriteString(c, ByeTooMany+"\r\n")
		c.Close()
		return nil, false
	}
	l.total++
	l.byAddr[key]++
	l.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { l.release(key) }) }, true
}

func (l *Limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[key]--; l.byAddr[key] <= 0 {
		delete(l.byAddr, key)
	}
}

// refusedLocked logs one refusal, unless refusalLogBurst lines were written
// in this refusalLogEvery already. The line (documented in
// docs/security.md, stable for log watchers):
//
//	connection refused: client=<ip> too many connections: <why>[; <n> more refused, not logged]
func (l *Limiter) refusedLocked(ip, why string, now time.Time) {
	if now.Sub(l.logStart) >= refusalLogEvery {
		l.logStart, l.logged = now, 0
	}
	if l.logged >= refusalLogBurst {
		l.suppressed++
		return
	}
	l.logged++
	more := ""
	if l.suppressed > 0 {
		more = "; " + itoa(l.suppressed) + " more refused, not logged"
		l.suppressed = 0
	}
	l.log.Infof("connection refused: client=%s too many connections: %s%s", ip, why, more)
}

// ReleaseOnClose returns c with a Close that also calls release (once): for
// a connection served in this process after Admit.
func ReleaseOnClose(c net.Conn, release func()) net.Conn {
	return &releasingConn{Conn: c, release: release}
}

type releasingConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (r *releasingConn) Close() error {
	err := r.Conn.Close()
	r.once.Do(r.release)
	return err
}

// ClientKey is the client address that per-address limits count: the IP
// address of a TCP peer, the /64 prefix for IPv6 (one site usually has a
// whole /64, so single IPv6 addresses cost an attacker nothing), the
// address text otherwise (pipes: one key).
func ClientKey(a net.Addr) string {
	ip, ok := clientIP(a)
	if !ok {
		return addrText(a)
	}
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// ClientIP is the client's IP address as the log shows it (client=...),
// the address text when it has none.
func ClientIP(a net.Addr) string {
	if ip, ok := clientIP(a); ok {
		return ip.String()
	}
	return addrText(a)
}

func clientIP(a net.Addr) (netip.Addr, bool) {
	var ip netip.Addr
	switch t := a.(type) {
	case nil:
		return ip, false
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(t.IP)
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ip, false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	return ip, ip.IsValid()
}

func addrText(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
