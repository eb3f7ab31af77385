package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// CacheTTL is how long a cached successful check is answered from memory:
// a changed or removed password takes effect after at most this long.
const CacheTTL = 60 * time.Second

// Cache is authent_cache: it answers a check of a user, password and
// client IP that succeeded less than CacheTTL ago from memory instead of
// asking the authenticator behind it.
//
//   - The password is never kept: an entry is found by
//     HMAC-SHA256(key, user NUL password NUL client-ip), with a random key
//     made when the cache is and never written anywhere, and holds only the
//     authenticator's answer (user, drop file, uid, info).
//   - The client IP is part of the key, so an authenticator that decides
//     by address is still asked for every new address.
//   - Only successes are cached. A rejected check, an unavailable
//     authenticator and a check of a key whose entry expired go to the
//     authenticator; a rejection also drops the key's entry, if any.
//   - At most max entries: adding one to a full cache first drops the
//     oldest.
//
// Cache is safe for concurrent use when the authenticator behind it is.
type Cache struct {
	next Authenticator
	max  int
	ttl  time.Duration
	key  [32]byte
	now  func() time.Time // time.Now; tests move it

	mu    sync.Mutex
	byKey map[[32]byte]*list.Element
	order *list.List // of *cacheEntry, oldest first
}

type cacheEntry struct {
	key     [32]byte
	res     Result
	expires time.Time
}

// NewCache returns a cache of max entries (max < 1 means 1) in front of
// next; ttl <= 0 means CacheTTL.
func NewCache(next Authenticator, max int, ttl time.Duration) *Cache {
	if max < 1 {
		max = 1
	}
	if ttl <= 0 {
		ttl = CacheTTL
	}
	c := &Cache{next: next, max: max, ttl: ttl, now: time.Now,
		byKey: map[[32]byte]*list.Element{}, order: list.New()}
	if _, err := rand.Read(c.key[:]); err != nil {
		// crypto/rand does not fail on supported systems; a cache with a
		// zero key would still never hold a password.
		c.max = 0
	}
	return c
}

func (c *Cache) mac(user, pass, clientIP string) [32]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	h.Write([]byte{0})
	h.Write([]byte(clientIP))
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// Check answers from the cache when it can, else asks the authenticator
// behind it and keeps a success.
func (c *Cache) Check(user, pass, clientIP string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	if err := checkPassword(pass); err != nil {
		return nil, err
	}
	k := c.mac(user, pass, clientIP)
	if r, ok := c.get(k); ok {
		return r, nil
	}
	res, err := c.next.Check(user, pass, clientIP)
	if err != nil {
		c.drop(k)
		return nil, err
	}
	c.put(k, res)
	return res, nil
}

func (c *Cache) get(k [32]byte) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, k)
		return nil, false
	}
	r := e.res
	return &r, true
}

func (c *Cache) put(k [32]byte, res *Result) {
	if c.max == 0 || res == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.Remove(el)
		delete(c.byKey, k)
	}
	for c.order.Len() >= c.max {
		old := c.order.Front()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*cacheEntry).key)
	}
	c.byKey[k] = c.order.PushBack(&cacheEntry{key: k, res: *res, expires: c.now().Add(c.ttl)})
}

func (c *Cache) drop(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.Remove(el)
		delete(c.byKey, k)
	}
}

// Len is the number of entries held (expired ones included until they are
// looked up or pushed out).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Close closes the authenticator behind the cache and forgets every entry.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.byKey = map[[32]byte]*list.Element{}
	c.order.Init()
	c.mu.Unlock()
	return c.next.Close()
}
