package check

// One SMTP connection per target IP at a time (design.md §4), across every
// check that shares the IPLocks: the MX hosts of one domain, the domains of
// a --domains run, the requests of a server. Two domains hosted on the same
// mail server are never probed at once, and in bulk runs a pause between
// two sessions to one address (Spacing) keeps mxray below the connection
// rates servers throttle at (RFC 5321 §4.5.3.2 lets a server close or delay
// clients that open too many sessions).

import (
	"context"
	"sync"
	"time"
)

// IPLocks hands out one connection slot per IP address. The zero value is
// ready to use (no spacing); it must not be copied after first use. Entries
// of addresses nobody holds or waits for are dropped, so a run over many
// domains keeps only the addresses in use.
type IPLocks struct {
	// Spacing is the least time between the end of one session to an
	// address and the start of the next (0: none).
	Spacing time.Duration

	mu sync.Mutex
	m  map[string]*ipSlot
	// now is the clock (tests replace it).
	now func() time.Time
}

type ipSlot struct {
	sem     chan struct{} // holds one token while a session runs
	users   int           // holders and waiters
	lastEnd time.Time     // when the last session ended
}

// Lock waits until no other session to ip runs and Spacing has passed
// since the last one ended, then returns the function that releases the
// slot. It returns ctx's error if ctx ends first.
func (l *IPLocks) Lock(ctx context.Context, ip string) (unlock func(), err error) {
	s := l.join(ip)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		l.leave(ip, s, false)
		return nil, ctx.Err()
	}
	if wait := l.spacingLeft(s); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			<-s.sem
			l.leave(ip, s, false)
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.leave(ip, s, true)
			<-s.sem
		})
	}, nil
}

// join registers a holder or waiter of ip's slot.
func (l *IPLocks) join(ip string) *ipSlot {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*ipSlot{}
	}
	s, ok := l.m[ip]
	if !ok {
		s = &ipSlot{sem: make(chan struct{}, 1)}
		l.m[ip] = s
	}
	s.users++
	return s
}

// leave unregisters a holder (ended: a session ran) or a waiter that gave
// up, and drops the slot once nobody uses it and its spacing has passed
// (sweeping other such slots on the way, so the map stays small).
func (l *IPLocks) leave(ip string, s *ipSlot, ended bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if ended {
		s.lastEnd = now
	}
	s.users--
	for k, x := range l.m {
		if x.users == 0 && now.Sub(x.lastEnd) >= l.Spacing {
			delete(l.m, k)
		}
	}
}

func (l *IPLocks) spacingLeft(s *ipSlot) time.Duration {
	if l.Spacing <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.lastEnd.IsZero() {
		return 0
	}
	return l.Spacing - l.clock().Sub(s.lastEnd)
}

func (l *IPLocks) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// Len is the number of addresses held, awaited or still spaced.
func (l *IPLocks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
