package dnscheck

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/report"
)

// Resolver answers one question. Implementations must honour the context's
// deadline and must never return a failure as NXDOMAIN or NODATA.
type Resolver interface {
	Lookup(ctx context.Context, name string, qtype uint16) Answer
}

// Status is the outcome of a lookup, coarser than the rcode and including
// outcomes that have no rcode (timeouts, network errors).
type Status int

const (
	StatusOK       Status = iota // NOERROR with records of the type asked for
	StatusNXDomain               // the name does not exist
	StatusNoData                 // the name exists, but has no records of this type
	StatusServFail               // SERVFAIL: the resolver could not get an answer
	StatusRefused                // REFUSED (policy, rate limit, not allowed to recurse)
	StatusTimeout                // no answer before the deadline
	StatusError                  // network error, malformed or mismatched reply, other rcode
	// StatusUntrusted is a negative answer (NXDOMAIN or NODATA) from a
	// resolver caught denying names that must exist (see Vetter): it is
	// not evidence of absence.
	StatusUntrusted
)

var statusNames = [...]string{"ok", "nxdomain", "nodata", "servfail", "refused", "timeout", "error", "untrusted"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// Answer is the result of one lookup. Records holds the answer-section
// records of the type asked for, after following any CNAME chain the
// resolver returned; CNAMEs lists the chain's targets in order.
type Answer struct {
	Name    string // fully qualified, lower case, trailing dot
	Type    uint16
	Status  Status
	Rcode   int
	Records []dns.RR
	CNAMEs  []string
	// AD is the resolver's Authenticated Data bit: the resolver asserts the
	// answer was DNSSEC-validated. mxray does not validate itself; it reports
	// this as resolver-asserted.
	AD     bool
	Server string
	Err    error // set for servfail, refused, timeout, error
	// Size is the size of the reply message on the wire, in octets.
	Size int
	// TCP is true when the final answer came over TCP (after truncation).
	TCP bool
}

// Exists reports whether records of the asked type were found.
func (a Answer) Exists() bool { return a.Status == StatusOK }

// Failed reports whether the lookup did not give a definite answer. A failed
// lookup is unknown: the record may well exist.
func (a Answer) Failed() bool { return a.Status >= StatusServFail }

// Missing reports a definite absence: NXDOMAIN or NODATA.
func (a Answer) Missing() bool { return a.Status == StatusNXDomain || a.Status == StatusNoData }

// Describe is a short human description: "example.com. MX: nxdomain".
func (a Answer) Describe() string {
	s := fmt.Sprintf("%s %s: %s", a.Name, dns.TypeToString[a.Type], a.Status)
	if a.Err != nil && a.Status != StatusServFail && a.Status != StatusRefused {
		s += " (" + a.Err.Error() + ")"
	}
	if a.Server != "" {
		s += " via " + a.Server
	}
	return s
}

// Strings returns each record's text form, for evidence.
func (a Answer) Strings() []string {
	out := make([]string, 0, len(a.Records))
	for _, rr := range a.Records {
		out = append(out, rr.String())
	}
	return out
}

// ErrNoServers is returned when no nameserver is configured.
var ErrNoServers = errors.New("no DNS servers configured")

// Client is the production Resolver: it queries recursive nameservers with
// miekg/dns, EDNS0 (1232-octet buffer, RFC 9715 / DNS flag day 2020), TCP on
// truncation, a per-run cache with in-flight deduplication, a bound on
// queries in flight, and a trace of every query sent.
type Client struct {
	servers []string
	// Timeout bounds one attempt against one server; the context bounds the
	// whole lookup.
	attemptTimeout time.Duration
	sem            chan struct{}

	mu       sync.Mutex
	cache    *answerCache
	trace    []report.Query
	udp, tcp *dns.Client
	sockets  udpPool
	now      func() time.Time
}

// Options tune a Client. Zero values take the defaults.
type Options struct {
	AttemptTimeout time.Duration // default 3s
	MaxInFlight    int           // default 64 queries in flight per client (a domain check with 20+ blocklists needs one round, not four)
	// CacheEntries bounds the answer cache (default DefaultCacheEntries, 10,000):
	// a Client shared by a run over many domains stays in bounded memory.
	CacheEntries int
}

// NewClient returns a resolver that asks the given servers ("ip", "ip:port",
// "[v6]:port"), in order, failing over on SERVFAIL, REFUSED and timeouts.
func NewClient(servers []string, opt Options) (*Client, error) {
	if len(servers) == 0 {
		return nil, ErrNoServers
	}
	norm := make([]string, 0, len(servers))
	for _, s := range servers {
		hp, err := NormalizeServer(s)
		if err != nil {
			return nil, err
		}
		norm = append(norm, hp)
	}
	if opt.AttemptTimeout <= 0 {
		opt.AttemptTimeout = 3 * time.Second
	}
	if opt.MaxInFlight <= 0 {
		opt.MaxInFlight = 64
	}
	return &Client{
		servers:        norm,
		attemptTimeout: opt.AttemptTimeout,
		sem:            make(chan struct{}, opt.MaxInFlight),
		cache:          newAnswerCache(opt.CacheEntries),
		now:            time.Now,
		udp:            &dns.Client{Net: "udp", UDPSize: 1232},
		tcp:            &dns.Client{Net: "tcp"},
	}, nil
}

// Servers returns the nameservers the client asks, as host:port.
func (c *Client) Servers() []string { return append([]string(nil), c.servers...) }

// NormalizeServer turns "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:5353" into host:port.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if ip := net.ParseIP(s); ip != nil {
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("resolver %q: want IP or IP:PORT", s)
	}
	if net.ParseIP(host) == nil {
		return "", fmt.Errorf("resolver %q: %q is not an IP address", s, host)
	}
	if p, err := net.LookupPort("udp", port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("resolver %q: bad port %q", s, port)
	}
	return net.JoinHostPort(host, port), nil
}

// SystemServers reads the nameservers of /etc/resolv.conf (or the given path).
func SystemServers(path string) ([]string, error) {
	if path == "" {
		path = "/etc/resolv.conf"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading nameservers: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			addr := fields[1]
			if i := strings.IndexByte(addr, '%'); i >= 0 { // zone index of link-local v6
				addr = addr[:i]
			}
			if ip := net.ParseIP(addr); ip != nil {
				out = append(out, net.JoinHostPort(ip.String(), "53"))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoServers)
	}
	return out, sc.Err()
}

// MaxInFlight is the bound on queries in flight.
func (c *Client) MaxInFlight() int { return cap(c.sem) }

// Trace returns every query sent so far outside a TraceLog (see
// WithTraceLog), in the order they completed.
func (c *Client) Trace() []report.Query {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]report.Query(nil), c.trace...)
}

// Lookup answers name/qtype from the cache, joins an identical query in
// flight, or asks the servers.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	name = dns.CanonicalName(name)
	key := cacheKey{name, qtype}
	log := traceLogOf(ctx)
	c.mu.Lock()
	if cl := c.cache.get(key, c.now()); cl != nil {
		c.mu.Unlock()
		select {
		case <-cl.done:
			if log != nil && cl.origin != log.id {
				log.add(cachedQuery(cl.ans))
			}
			return cl.ans
		case <-ctx.Done():
			return Answer{Name: name, Type: qtype, Status: StatusTimeout, Err: ctx.Err()}
		}
	}
	cl := c.cache.start(key, log)
	c.mu.Unlock()

	ans, ttl := c.resolve(ctx, name, qtype)
	cl.ans = ans
	c.mu.Lock()
	if ans.Status == StatusTimeout && ctx.Err() != nil {
		// The caller gave up; a later caller with time left must not inherit it.
		c.cache.remove(cl)
	} else {
		c.cache.answered(cl, ttl, c.now())
	}
	c.mu.Unlock()
	close(cl.done)
	return ans
}

// cachedQuery is the trace entry of an answer another check's query got.
func cachedQuery(a Answer) report.Query {
	q := report.Query{Name: a.Name, Type: dns.TypeToString[a.Type], Server: a.Server, Rcode: a.Status.String(),
		Answers: len(a.Records), Cached: true, TCP: a.TCP}
	if a.Status == StatusOK || a.Status == StatusNoData {
		q.Rcode = dns.RcodeToString[dns.RcodeSuccess]
	} else if a.Status == StatusNXDomain {
		q.Rcode = dns.RcodeToString[dns.RcodeNameError]
	}
	if a.Err != nil {
		q.Error = a.Err.Error()
	}
	return q
}

// resolve asks the servers and returns the answer and how long it may be cached.
func (c *Client) resolve(ctx context.Context, name string, qtype uint16) (Answer, time.Duration) {
	if _, ok := dns.IsDomainName(name); !ok || len(name) > 254 {
		return Answer{Name: name, Type: qtype, Status: StatusError, Err: fmt.Errorf("invalid domain name %q", name)}, failureTTL
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return Answer{Name: name, Type: qtype, Status: StatusTimeout, Err: ctx.Err()}, 0
	}
	var last Answer
	var ttl time.Duration
	// Two rounds over the servers, for timeouts and server failures; an
	// NXDOMAIN or NODATA is an answer and is never retried.
	for round := 0; round < 2; round++ {
		for _, srv := range c.servers {
			if ctx.Err() != nil {
				if last.Name == "" {
					last = Answer{Name: name, Type: qtype, Status: StatusTimeout, Err: ctx.Err()}
				}
				return last, failureTTL
			}
			last, ttl = c.exchange(ctx, srv, name, qtype)
			if !last.Failed() {
				return last, ttl
			}
		}
	}
	return last, ttl
}

func (c *Client) exchange(ctx context.Context, server, name string, qtype uint16) (Answer, time.Duration) {
	if err := netguard.Check(server); err != nil {
		return Answer{Name: name, Type: qtype, Server: server, Status: StatusError, Err: err}, failureTTL
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = true // RFC 6840 §5.7: ask for the AD bit without DO
	m.SetEdns0(1232, false)

	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	start := time.Now()
	q := report.Query{Name: name, Type: dns.TypeToString[qtype], Server: server}
	resp, err := c.exchangeUDP(actx, m, server)
	if err == nil && resp.Truncated {
		q.TCP = true
		resp, _, err = c.tcp.ExchangeContext(actx, m, server)
	}
	q.Duration = report.Duration(time.Since(start))
	ans := Answer{Name: name, Type: qtype, Server: server, TCP: q.TCP}
	switch {
	case err != nil:
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (errors.As(err, &ne) && ne.Timeout()) {
			ans.Status = StatusTimeout
			ans.Err = fmt.Errorf("no answer from %s within %s", server, q.Duration.Std().Round(time.Millisecond))
		} else {
			ans.Status = StatusError
			ans.Err = err
		}
		q.Rcode = ans.Status.String()
		q.Error = ans.Err.Error()
	default:
		ans = interpret(name, qtype, resp)
		ans.Server = server
		ans.TCP = q.TCP
		q.Rcode = dns.RcodeToString[resp.Rcode]
		q.Answers = len(resp.Answer)
		if ans.Err != nil {
			q.Error = ans.Err.Error()
		}
	}
	c.record(ctx, q)
	return ans, answerTTL(ans, resp)
}

// exchangeUDP sends m over one of the pooled UDP sockets to server.
func (c *Client) exchangeUDP(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	uc, err := c.sockets.get(ctx, c.udp, server)
	if err != nil {
		return nil, err
	}
	resp, _, err := c.udp.ExchangeWithConnContext(ctx, m, uc.Conn)
	c.sockets.put(server, uc, err == nil)
	return resp, err
}

// record keeps q in the lookup's TraceLog, or in the Client's trace.
func (c *Client) record(ctx context.Context, q report.Query) {
	if log := traceLogOf(ctx); log != nil {
		log.add(q)
		return
	}
	c.mu.Lock()
	c.trace = append(c.trace, q)
	c.mu.Unlock()
}

// interpret turns a reply into an Answer: it checks the question echoes
// ours, maps the rcode, and follows the CNAME chain in the answer section.
func interpret(name string, qtype uint16, resp *dns.Msg) Answer {
	ans := Answer{Name: name, Type: qtype, Rcode: resp.Rcode, AD: resp.AuthenticatedData, Size: resp.Len()}
	if len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, name) ||
		resp.Question[0].Qtype != qtype || resp.Question[0].Qclass != dns.ClassINET {
		ans.Status = StatusError
		ans.Err = fmt.Errorf("reply does not match the question %s %s", name, dns.TypeToString[qtype])
		return ans
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		ans.Status = StatusNXDomain
		return ans
	case dns.RcodeServerFailure:
		ans.Status = StatusServFail
		ans.Err = errors.New("SERVFAIL")
		return ans
	case dns.RcodeRefused:
		ans.Status = StatusRefused
		ans.Err = errors.New("REFUSED")
		return ans
	default:
		ans.Status = StatusError
		ans.Err = fmt.Errorf("rcode %s", dns.RcodeToString[resp.Rcode])
		return ans
	}
	ans.Records, ans.CNAMEs = followChain(name, qtype, resp.Answer)
	if len(ans.Records) > 0 {
		ans.Status = StatusOK
	} else {
		ans.Status = StatusNoData
	}
	return ans
}

// followChain walks CNAMEs from name through the answer section (at most 16
// links, so a loop ends) and returns the records of qtype at the end.
func followChain(name string, qtype uint16, rrs []dns.RR) ([]dns.RR, []string) {
	var chain []string
	cur := name
	seen := map[string]bool{}
	for hop := 0; hop < 16; hop++ {
		var out []dns.RR
		next := ""
		for _, rr := range rrs {
			h := rr.Header()
			if !strings.EqualFold(h.Name, cur) || h.Class != dns.ClassINET {
				continue
			}
			if h.Rrtype == qtype {
				out = append(out, rr)
			} else if cn, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				next = dns.CanonicalName(cn.Target)
			}
		}
		if len(out) > 0 || next == "" || seen[next] {
			return out, chain
		}
		seen[cur] = true
		chain = append(chain, next)
		cur = next
	}
	return nil, chain
}
