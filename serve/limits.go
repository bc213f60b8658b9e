package serve

// Admission: a per-client rate of reports and a bound on reports in
// flight. Over either, the answer is 429 Too Many Requests with a
// Retry-After header (RFC 6585 §4, RFC 9110 §10.2.3).

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientRates holds one token bucket per client (golang.org/x/time/rate).
type clientRates struct {
	limit rate.Limit // reports per second; 0: no limit
	burst int

	mu        sync.Mutex
	clients   map[string]*clientRate
	lastSweep time.Time
}

type clientRate struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxClients bounds the table; idle clients are forgotten first.
const maxClients = 10000

func newClientRates(perMinute float64, burst int) *clientRates {
	if burst < 1 {
		burst = 1
	}
	return &clientRates{limit: rate.Limit(perMinute / 60), burst: burst, clients: map[string]*clientRate{}}
}

// allow takes one token for the client; when there is none it says how
// long until there will be.
func (c *clientRates) allow(key string, now time.Time) (time.Duration, bool) {
	if c.limit <= 0 {
		return 0, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	cr := c.clients[key]
	if cr == nil {
		cr = &clientRate{lim: rate.NewLimiter(c.limit, c.burst)}
		c.clients[key] = cr
	}
	cr.seen = now
	r := cr.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep forgets clients idle long enough for their bucket to be full
// again (they are as new), at most once a minute, and the oldest ones
// when the table is still too big.
func (c *clientRates) sweep(now time.Time) {
	if len(c.clients) < 1024 || now.Sub(c.lastSweep) < time.Minute && len(c.clients) < maxClients {
		return
	}
	c.lastSweep = now
	refill := time.Duration(float64(c.burst) / float64(c.limit) * float64(time.Second))
	for k, cr := range c.clients {
		if now.Sub(cr.seen) > refill {
			delete(c.clients, k)
		}
	}
	for k := range c.clients {
		if len(c.clients) < maxClients {
			break
		}
		delete(c.clients, k)
	}
}

// slots bounds the reports in flight.
type slots chan struct{}

func (s slots) tryAcquire() bool {
	select {
	case s <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s slots) release() { <-s }

// inFlight is the number of reports running.
func (s slots) inFlight() int { return len(s) }

// retryAfterSeconds is the Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds()))))
}

// clientKey names the client for the rate limit: its address, the /64
// for IPv6 (one host usually holds a whole /64). Behind a trusted reverse
// proxy (--trusted-proxy) it is the last address of X-Forwarded-For that
// is not a trusted proxy.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	a := remoteAddr(r.RemoteAddr)
	if a.IsValid() && inPrefixes(a, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			a = h.Unmap()
			if !inPrefixes(a, trusted) {
				break
			}
		}
	}
	if !a.IsValid() {
		return r.RemoteAddr
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func remoteAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// prepaid are reports a client was already charged for. The home page's
// one input (/go) looks a name up to know whether it is a mail domain or a
// mail host: that lookup is admitted and charged to the client's rate like
// a report, before any query is sent, and the report it redirects to is
// then not charged a second time. Each is used once, within prepaidFor;
// the table is bounded (when it is full, the report is simply charged).
type prepaid struct {
	mu sync.Mutex
	m  map[string]time.Time // client + " " + path → when the credit lapses
}

// prepaidFor is how long a redirect's credit waits for the browser.
const prepaidFor = 30 * time.Second

func newPrepaid() *prepaid { return &prepaid{m: map[string]time.Time{}} }

func (p *prepaid) grant(client, path string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxClients {
		for k, until := range p.m {
			if now.After(until) {
				delete(p.m, k)
			}
		}
		if len(p.m) >= maxClients {
			return
		}
	}
	p.m[client+" "+path] = now.Add(prepaidFor)
}

// take uses the client's credit for path, if it has one.
func (p *prepaid) take(client, path string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.m[client+" "+path]
	delete(p.m, client+" "+path)
	return ok && !now.After(until)
}
