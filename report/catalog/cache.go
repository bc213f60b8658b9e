package catalog

// A cache of explanations for streams of replies (mail logs): the same
// reply comes back thousands of times with another client address,
// recipient or queue id in it. The cache keys on the prepared reply with
// those parts masked and keeps the entry that won; a hit explains the new
// text with that entry alone (its captures are the new text's own).
//
// This is exact because no entry's condition depends on the characters of
// an IP address, a mail address or a long mixed identifier — what the
// mask replaces: TestCacheMaskKeepsWinner checks it on every example,
// near miss and seed reply.

import (
	"strings"
	"sync"
)

// Cache remembers which entry explains a masked reply. It is safe for
// concurrent use; at most Max keys are kept (the whole cache is dropped
// when full: a log's replies repeat, so it refills with the common ones).
type Cache struct {
	c   *Catalog
	max int

	mu      sync.Mutex
	m       map[cacheKey]*Entry
	hits    int
	misses  int
	flushes int
}

type cacheKey struct {
	stage    Stage
	code     int
	enhanced string
	text     string
}

// NewCache returns a cache over the catalog holding at most max replies
// (0: 4096).
func (c *Catalog) NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{c: c, max: max, m: map[cacheKey]*Entry{}}
}

// Explain is Catalog.Explain through the cache.
func (k *Cache) Explain(stage Stage, code int, enhanced string, text string) Explanation {
	r := prepareReply(stage, code, enhanced, text)
	key := cacheKey{r.stage, r.code, r.enhanced, MaskReply(r.text)}
	k.mu.Lock()
	e, ok := k.m[key]
	if ok {
		k.hits++
	}
	k.mu.Unlock()
	if !ok {
		e = k.c.first(&r)
		k.mu.Lock()
		k.misses++
		if len(k.m) >= k.max {
			k.m = map[cacheKey]*Entry{}
			k.flushes++
		}
		k.m[key] = e
		k.mu.Unlock()
	}
	return k.c.explainWith(e, &r)
}

// Stats returns the hits, misses and flushes so far.
func (k *Cache) Stats() (hits, misses, flushes int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hits, k.misses, k.flushes
}

// MaskReply replaces, in a reply text, what differs from one occurrence of
// the same reply to the next and never decides its meaning: IPv4 and IPv6
// addresses ("#ip"), mail addresses ("#addr") and identifiers — runs of
// ten or more letters and digits holding both ("#id"): queue ids,
// message ids, server tokens. Everything else is kept, zone and domain
// names included (they name the list or the provider).
func MaskReply(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for i < len(s) {
		j := tokenEnd(s, i)
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		tok := s[i:j]
		switch {
		case strings.IndexByte(tok, '@') > 0 && strings.IndexByte(tok, '@') < len(tok)-1:
			b.WriteString("#addr")
		case isIPToken(tok):
			b.WriteString("#ip")
		case isIDToken(tok):
			b.WriteString("#id")
		default:
			b.WriteString(tok)
		}
		i = j
	}
	return b.String()
}

// tokenEnd returns the end of the token at i: a run of the characters
// addresses, IPs and identifiers are made of ("" when s[i] is none).
func tokenEnd(s string, i int) int {
	j, at := i, false
	for j < len(s) && tokenByte(s[j]) {
		if s[j] == '@' {
			at = true
		} else if s[j] == ':' && at {
			break // "user@example.com:blocked": the address ends here
		}
		j++
	}
	// A trailing dot or colon ends a sentence or a field, not the token.
	for j > i && (s[j-1] == '.' || s[j-1] == ':') {
		j--
	}
	return j
}

func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '@' || c == ':' || c == '-' || c == '_' || c == '+' || c == '=' || c == '%'
}

// isIPToken: a dotted quad (four runs of 1-3 digits) or an IPv6 address
// (hex digits and at least two colons).
func isIPToken(t string) bool {
	if strings.Count(t, ".") == 3 {
		n := 0
		for _, p := range strings.Split(t, ".") {
			if len(p) == 0 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
				return false
			}
			n++
		}
		return n == 4
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "IPv6:"), "ipv6:")
	if strings.Contains(t, "::") || strings.Count(t, ":") == 7 {
		// Not a time ("12:30:00"): RFC 4291 §2.2 text has eight groups
		// or "::".
		return strings.Trim(t, "0123456789abcdefABCDEF:.") == ""
	}
	return false
}

// isIDToken: ten or more letters and digits (with - or _ between), both
// kinds present.
func isIDToken(t string) bool {
	if len(t) < 10 {
		return false
	}
	letters, digits := 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letters++
		case c == '-' || c == '_':
		default:
			return false
		}
	}
	return letters > 0 && digits > 0 && letters+digits >= 10
}
