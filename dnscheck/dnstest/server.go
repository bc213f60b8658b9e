// Package dnstest is mxray's DNS test world: an in-process server on
// 127.0.0.1:0 (UDP and TCP on the same port) that answers from zone text as
// a recursive resolver would, with faults injected per name.
//
// It serves every zone it is given from one place, so a test points the
// resolver at it and sees "the internet" those zones describe:
//   - CNAME chains are followed within the data (at most 16 links; loops end),
//   - NXDOMAIN and NODATA carry the enclosing zone's SOA in the authority section,
//   - "*.zone" wildcards are synthesised (RFC 4592, closest encloser),
//   - a UDP answer larger than the client's EDNS buffer (or 512 octets) is truncated,
//   - the root exists as on the internet: ". NS" and ". SOA" are answered
//     (with a synthetic ns.dnstest. unless the zone text gives the root's records),
//   - faults per name and type: SERVFAIL, REFUSED, silence (the client times out),
//     added latency, and a global latency per answer; a fault for every name
//     (SetFaultAll) makes a lying resolver, e.g. NXDOMAIN for everything,
//   - names under a zone marked Secure get the AD bit when the query asks for it
//     (and every CNAME target of the answer is under a Secure zone too).
//
// No test in mxray talks to a public DNS server.
package dnstest

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// TB is the part of testing.TB the server uses; *testing.T and *testing.B
// satisfy it. The package does not import testing, so that a program
// (mxray demo) can serve a world with New without linking the test
// framework.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Fault is an injected misbehaviour for one name (and type).
type Fault struct {
	Rcode int           // reply with this rcode and no records (dns.RcodeServerFailure, dns.RcodeRefused, ...)
	Drop  bool          // never answer: the client times out
	Delay time.Duration // answer, but this much later
	// Truncate sets TC on every UDP reply for the name, whatever its size.
	Truncate bool
}

// Server is a running test DNS server.
type Server struct {
	Addr string // "127.0.0.1:port", UDP and TCP

	udp, tcp *dns.Server
	mu       sync.RWMutex
	records  map[string][]dns.RR // owner -> records
	names    map[string]bool     // every owner and every ancestor up to the zone apex (for NODATA vs NXDOMAIN)
	soas     map[string]*dns.SOA // zone apex -> SOA
	faults   map[faultKey]Fault
	faultAll *Fault // for every name without a fault of its own
	secure   []string
	latency  time.Duration
	queries  atomic.Int64
	noLog    atomic.Bool
	logMu    sync.Mutex
	log      []string
}

type faultKey struct {
	name  string
	qtype uint16 // 0: every type
}

// Start parses the zone text and starts serving. Zone text is standard
// master-file syntax; relative names are relative to "." unless $ORIGIN says
// otherwise. It fails the test on a syntax error and stops the server when
// the test ends.
func Start(t TB, zone string) *Server {
	t.Helper()
	s, err := New(zone)
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New is Start without a test, for benchmarks' helpers, fuzzers and
// mxray demo; Close stops it.
func New(zone string) (*Server, error) {
	s, err := newServer(zone)
	if err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

// newServer loads the zone into a server that does not listen yet.
func newServer(zone string) (*Server, error) {
	s := &Server{records: map[string][]dns.RR{}, names: map[string]bool{}, soas: map[string]*dns.SOA{}, faults: map[faultKey]Fault{}}
	if err := s.AddZone(zone); err != nil {
		return nil, err
	}
	return s, nil
}

// AddZone adds records from zone text to a running server.
func (s *Server) AddZone(zone string) error {
	zp := dns.NewZoneParser(strings.NewReader(zone), ".", "zone")
	zp.SetDefaultTTL(300)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range rrs {
		s.addLocked(rr)
	}
	return nil
}

// AddRR adds records given one per string ("name TTL IN TYPE data").
func (s *Server) AddRR(lines ...string) error {
	return s.AddZone(strings.Join(lines, "\n"))
}

func (s *Server) addLocked(rr dns.RR) {
	n := dns.CanonicalName(rr.Header().Name)
	rr.Header().Name = n
	s.records[n] = append(s.records[n], rr)
	if soa, ok := rr.(*dns.SOA); ok {
		s.soas[n] = soa
	}
	// Every ancestor of an owner exists (empty non-terminals answer NODATA).
	for name := n; ; {
		s.names[name] = true
		i := strings.IndexByte(name, '.')
		if i < 0 || i == len(name)-1 {
			break
		}
		name = name[i+1:]
	}
}

// RemoveName deletes every record owned by name (ancestors stay).
func (s *Server) RemoveName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, dns.CanonicalName(name))
}

// SetFault injects a fault for name and qtype (0: every type).
func (s *Server) SetFault(name string, qtype uint16, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[faultKey{dns.CanonicalName(name), qtype}] = f
}

// SetFaultAll injects f for every name and type that has no fault of its
// own: Fault{Rcode: dns.RcodeNameError} is a resolver that answers NXDOMAIN
// for everything (an offline sandbox, a captive portal, a broken forwarder).
func (s *Server) SetFaultAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultAll = &f
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[faultKey]Fault{}
	s.faultAll = nil
}

// SetLatency delays every answer by d (before any per-name Delay).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Secure marks a zone (and everything under it) as DNSSEC-validated: answers
// carry the AD bit when the query set AD or DO.
func (s *Server) Secure(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secure = append(s.secure, dns.CanonicalName(zone))
}

// KeepLog turns the query log on (the default) or off: a benchmark that
// sends a million queries needs the count, not the list.
func (s *Server) KeepLog(on bool) { s.noLog.Store(!on) }

// Queries is the number of queries received.
func (s *Server) Queries() int { return int(s.queries.Load()) }

// Log returns "name TYPE" for every query received, in order of arrival.
func (s *Server) Log() []string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]string(nil), s.log...)
}

// Close stops the server.
func (s *Server) Close() {
	if s.udp != nil {
		_ = s.udp.Shutdown()
	}
	if s.tcp != nil {
		_ = s.tcp.Shutdown()
	}
}

func (s *Server) listen() error {
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := pc.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		if err != nil { // the TCP port is taken: try another UDP port
			pc.Close()
			lastErr = err
			continue
		}
		s.serve2(pc, l)
		return nil
	}
	return fmt.Errorf("no free UDP+TCP port pair: %v", lastErr)
}

// serve2 serves UDP and TCP on the two listeners and returns once both run.
func (s *Server) serve2(pc net.PacketConn, l net.Listener) {
	s.Addr = l.Addr().String()
	// A burst of concurrent checks (serve's 100-probe benchmark) sends
	// thousands of queries at once; the default receive buffer (~200 KB)
	// drops some, and each drop costs the client a whole attempt timeout.
	if u, ok := pc.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(4 << 20)
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serveUDP)}
	s.tcp = &dns.Server{Listener: l, Handler: dns.HandlerFunc(s.serveTCP)}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
}

func (s *Server) serveUDP(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, true) }
func (s *Server) serveTCP(w dns.ResponseWriter, r *dns.Msg) { s.serve(w, r, false) }

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg, udp bool) {
	s.queries.Add(1)
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	qname := dns.CanonicalName(q.Name)
	if !s.noLog.Load() {
		s.logMu.Lock()
		s.log = append(s.log, qname+" "+dns.TypeToString[q.Qtype])
		s.logMu.Unlock()
	}

	s.mu.RLock()
	latency := s.latency
	f, hasFault := s.faults[faultKey{qname, q.Qtype}]
	if !hasFault {
		f, hasFault = s.faults[faultKey{qname, 0}]
	}
	if !hasFault && s.faultAll != nil {
		f, hasFault = *s.faultAll, true
	}
	s.mu.RUnlock()

	if latency > 0 {
		time.Sleep(latency)
	}
	if hasFault {
		if f.Delay > 0 {
			time.Sleep(f.Delay)
		}
		if f.Drop {
			return
		}
		if f.Rcode != 0 {
			m := new(dns.Msg)
			m.SetRcode(r, f.Rcode)
			m.RecursionAvailable = true
			_ = w.WriteMsg(m)
			return
		}
	}

	m := s.answer(r, qname, q.Qtype)
	if udp {
		size := 512
		if opt := r.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
			if size < 512 {
				size = 512
			}
		}
		if (hasFault && f.Truncate) || m.Len() > size {
			// RFC 2181 §9: a truncated reply; the client must retry over TCP.
			t := new(dns.Msg)
			t.SetReply(r)
			t.Authoritative = true
			t.RecursionAvailable = true
			t.Truncated = true
			if opt := r.IsEdns0(); opt != nil {
				t.SetEdns0(opt.UDPSize(), false)
			}
			m = t
		}
	}
	_ = w.WriteMsg(m)
}

func (s *Server) answer(r *dns.Msg, qname string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = true
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(1232, false)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()

	cur := qname
	seen := map[string]bool{}
	for hop := 0; hop < 16; hop++ {
		rrs, exists := s.lookupLocked(cur)
		if !exists {
			m.Rcode = dns.RcodeNameError
			s.addSOALocked(m, cur)
			break
		}
		var matched []dns.RR
		var cname *dns.CNAME
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype || qtype == dns.TypeANY {
				matched = append(matched, copyOwner(rr, cur))
			} else if cn, ok := rr.(*dns.CNAME); ok {
				cname = cn
			}
		}
		if len(matched) > 0 {
			m.Answer = append(m.Answer, matched...)
			break
		}
		if cname == nil {
			s.addSOALocked(m, cur) // NODATA
			break
		}
		m.Answer = append(m.Answer, copyOwner(cname, cur))
		next := dns.CanonicalName(cname.Target)
		if seen[next] {
			// A CNAME loop: a real resolver gives up with SERVFAIL.
			m.Answer = nil
			m.Rcode = dns.RcodeServerFailure
			break
		}
		seen[cur] = true
		cur = next
	}
	// A validating resolver sets AD only when every name of the answer —
	// the query name and each CNAME target — is in a signed zone.
	secure := s.secureLocked(qname)
	for _, rr := range m.Answer {
		if cn, ok := rr.(*dns.CNAME); ok && !s.secureLocked(dns.CanonicalName(cn.Target)) {
			secure = false
		}
	}
	if (r.AuthenticatedData || doBit(r)) && m.Rcode != dns.RcodeServerFailure && secure {
		m.AuthenticatedData = true
	}
	return m
}

// lookupLocked returns the records at name, synthesising from a wildcard
// when the name does not exist (RFC 4592 §3.3.1: the closest encloser's "*").
func (s *Server) lookupLocked(name string) ([]dns.RR, bool) {
	if rrs, ok := s.records[name]; ok {
		return rrs, true
	}
	if name == "." {
		return rootRecords, true
	}
	if s.names[name] {
		return nil, true // empty non-terminal
	}
	for enc := parent(name); enc != ""; enc = parent(enc) {
		if rrs, ok := s.records["*."+enc]; ok {
			return rrs, true
		}
		if s.names[enc] {
			break // the closest encloser has no wildcard
		}
	}
	return nil, false
}

func (s *Server) addSOALocked(m *dns.Msg, name string) {
	for z := name; z != ""; z = parent(z) {
		if soa, ok := s.soas[z]; ok {
			m.Ns = append(m.Ns, dns.Copy(soa))
			return
		}
	}
	// No zone in the data encloses the name: answer with the synthetic root
	// SOA so that negative answers always carry one.
	m.Ns = append(m.Ns, dns.Copy(rootSOA))
}

// rootSOA and rootRecords stand for the root zone when the zone text does
// not give it: every resolver can answer the root's NS and SOA, and mxray
// asks for them to vet the resolver (dnscheck.Vetter).
var (
	rootSOA = &dns.SOA{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns.dnstest.", Mbox: "hostmaster.dnstest.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 300}
	rootRecords = []dns.RR{rootSOA,
		&dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 518400}, Ns: "ns.dnstest."}}
)

func (s *Server) secureLocked(name string) bool {
	for _, z := range s.secure {
		if name == z || strings.HasSuffix(name, "."+z) || z == "." {
			return true
		}
	}
	return false
}

func doBit(r *dns.Msg) bool {
	opt := r.IsEdns0()
	return opt != nil && opt.Do()
}

func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		if name == "." {
			return ""
		}
		return "."
	}
	return name[i+1:]
}

func copyOwner(rr dns.RR, owner string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

// Names lists every owner name in the data, sorted, for debugging tests.
func (s *Server) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.records))
	for n := range s.records {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
