package dnscheck

import (
	"context"
	"sync"

	"github.com/miekg/dns"
)

// Memo is a per-evaluation memo in front of a Resolver: identical
// queries share one answer, and a query already in flight (started by the
// prefetcher) is joined, not repeated.
type Memo struct {
	r  Resolver
	mu sync.Mutex
	m  map[cacheKey]*call
}

func NewMemo(r Resolver) *Memo {
	if m, ok := r.(*Memo); ok {
		return m
	}
	return &Memo{r: r, m: map[cacheKey]*call{}}
}

// Lookup implements Resolver.
func (s *Memo) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	k := cacheKey{dns.CanonicalName(name), qtype}
	s.mu.Lock()
	c, ok := s.m[k]
	if !ok {
		c = &call{done: make(chan struct{})}
		s.m[k] = c
		s.mu.Unlock()
		c.ans = s.r.Lookup(ctx, name, qtype)
		if ctx.Err() != nil && c.ans.Failed() {
			s.mu.Lock()
			delete(s.m, k) // a caller that gave up must not poison later callers
			s.mu.Unlock()
		}
		close(c.done)
		return c.ans
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		if c.ans.Failed() && ctx.Err() == nil {
			s.mu.Lock()
			cur := s.m[k]
			s.mu.Unlock()
			if cur != c { // the starter gave up; ask again
				return s.Lookup(ctx, name, qtype)
			}
		}
		return c.ans
	case <-ctx.Done():
		return Answer{Name: k.name, Type: qtype, Status: StatusTimeout, Err: ctx.Err()}
	}
}
