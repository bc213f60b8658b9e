package dnscheck

// UDP sockets for queries, reused. Opening and closing a socket per query
// (socket, connect, epoll registration, close) costs more than the query
// itself once a run asks thousands of questions a second (check --domains).
// A socket is reused, one query at a time, for at most udpSocketUses
// queries and then closed, so the source port still changes every few
// queries (RFC 5452 §9.2: ports an attacker cannot predict), and a reply is
// taken only when its ID matches the query's (miekg/dns drops others, such
// as a late reply to a query that timed out). A socket whose query failed
// is closed, never reused.

import (
	"context"
	"sync"

	"github.com/miekg/dns"
)

const (
	udpSocketUses = 32 // queries per socket before it is closed
	udpIdleMax    = 64 // idle sockets kept per server
)

type udpConn struct {
	*dns.Conn
	uses int
}

// udpPool keeps idle connected UDP sockets per server.
type udpPool struct {
	mu   sync.Mutex
	idle map[string][]*udpConn
}

// get returns an idle socket to server, or dials a new one.
func (p *udpPool) get(ctx context.Context, c *dns.Client, server string) (*udpConn, error) {
	p.mu.Lock()
	if free := p.idle[server]; len(free) > 0 {
		uc := free[len(free)-1]
		p.idle[server] = free[:len(free)-1]
		p.mu.Unlock()
		return uc, nil
	}
	p.mu.Unlock()
	co, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	return &udpConn{Conn: co}, nil
}

// put returns a socket after a query: kept when the query succeeded and the
// socket has uses left and there is room, closed otherwise.
func (p *udpPool) put(server string, uc *udpConn, ok bool) {
	uc.uses++
	if ok && uc.uses < udpSocketUses {
		p.mu.Lock()
		if p.idle == nil {
			p.idle = map[string][]*udpConn{}
		}
		if len(p.idle[server]) < udpIdleMax {
			p.idle[server] = append(p.idle[server], uc)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	uc.Close()
}
