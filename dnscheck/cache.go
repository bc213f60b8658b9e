package dnscheck

// The Client's answer cache. One check of one domain asks a few hundred
// questions; a run over a list of domains (check --domains) shares one
// Client, so the cache must stay bounded however long the list is, and must
// not serve an answer long after the record's TTL. Entries expire at their
// TTL (RFC 1035 §3.2.1; for a negative answer the SOA's minimum, RFC 2308 §5)
// clamped to [cacheMinTTL, cacheMaxTTL], failures after failureTTL (RFC 2308
// §7 allows caching a server failure for at most five minutes), and the
// least recently used answer is dropped when the cache is full. A question
// in flight is never dropped: later askers join it.

import (
	"container/list"
	"time"

	"github.com/miekg/dns"
)

const (
	// DefaultCacheEntries bounds the cache when Options.CacheEntries is 0:
	// far more than one domain check asks (a few hundred questions) and
	// enough for what domains of a list share (providers' MX hosts and SPF
	// includes, blocklist test points), at about 1 KB an answer: 10 MB.
	// BenchmarkRunDomains asks as many queries per domain with 10,000
	// entries as with 50,000, and holds 37 MB less at its peak.
	DefaultCacheEntries = 10_000
	// cacheMinTTL keeps an answer for the length of one check even when its
	// TTL is 0, so that the parts of a check see one view of the DNS.
	cacheMinTTL = time.Minute
	cacheMaxTTL = time.Hour
	failureTTL  = 30 * time.Second
)

type cacheKey struct {
	name  string
	qtype uint16
}

// call is one question: in flight until done is closed, then an answer.
type call struct {
	done chan struct{}
	ans  Answer

	key     cacheKey
	expires time.Time
	elem    *list.Element // in answerCache.lru once answered
	// origin is the id of the trace log of the check that sent the
	// question (an id, not the log: the cache must not keep a finished
	// check's queries alive); a later check served from the cache records
	// a cached entry in its own.
	origin uint64
}

// answerCache maps questions to calls. It is not safe for concurrent use:
// the Client holds its mutex around every method.
type answerCache struct {
	max   int
	calls map[cacheKey]*call
	lru   list.List // answered calls, most recently used first
}

func newAnswerCache(max int) *answerCache {
	if max <= 0 {
		max = DefaultCacheEntries
	}
	return &answerCache{max: max, calls: map[cacheKey]*call{}}
}

// get returns the call for key if it is in flight or answered and not
// expired; an expired answer is dropped.
func (c *answerCache) get(key cacheKey, now time.Time) *call {
	cl, ok := c.calls[key]
	if !ok {
		return nil
	}
	if cl.elem == nil { // in flight
		return cl
	}
	if now.After(cl.expires) {
		c.remove(cl)
		return nil
	}
	c.lru.MoveToFront(cl.elem)
	return cl
}

// start registers a new call in flight for key.
func (c *answerCache) start(key cacheKey, origin *TraceLog) *call {
	cl := &call{done: make(chan struct{}), key: key, origin: origin.idOf()}
	c.calls[key] = cl
	return cl
}

// answered keeps the answer of cl for ttl and evicts the least recently
// used answers beyond the bound.
func (c *answerCache) answered(cl *call, ttl time.Duration, now time.Time) {
	if c.calls[cl.key] != cl {
		return // dropped while in flight
	}
	cl.expires = now.Add(ttl)
	cl.elem = c.lru.PushFront(cl)
	for c.lru.Len() > c.max {
		c.remove(c.lru.Back().Value.(*call))
	}
}

// remove forgets cl (in flight or answered).
func (c *answerCache) remove(cl *call) {
	if c.calls[cl.key] == cl {
		delete(c.calls, cl.key)
	}
	if cl.elem != nil {
		c.lru.Remove(cl.elem)
		cl.elem = nil
	}
}

// Len is the number of questions cached or in flight.
func (c *answerCache) Len() int { return len(c.calls) }

// answerTTL is how long an answer may be cached: the smallest TTL of the
// records answering the question, or for NXDOMAIN and NODATA the negative
// TTL of RFC 2308 §5 (the lesser of the SOA's TTL and its MINIMUM field).
func answerTTL(ans Answer, resp *dns.Msg) time.Duration {
	if ans.Failed() {
		return failureTTL
	}
	var ttl uint32
	first := true
	take := func(t uint32) {
		if first || t < ttl {
			ttl, first = t, false
		}
	}
	if ans.Exists() {
		for _, rr := range ans.Records {
			take(rr.Header().Ttl)
		}
	} else if resp != nil {
		for _, rr := range resp.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				take(min(soa.Hdr.Ttl, soa.Minttl))
			}
		}
	}
	d := time.Duration(ttl) * time.Second
	if first || d < cacheMinTTL {
		d = cacheMinTTL
	}
	return min(d, cacheMaxTTL)
}
