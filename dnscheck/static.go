package dnscheck

import (
	"context"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// StaticResolver is a map-backed Resolver for unit tests (in the style of
// mox's dns.MockResolver): records are given in zone-file syntax, failures
// per name. Names without records are NXDOMAIN; a name that has records of
// other types, or that is an ancestor of a name with records, is NODATA.
// The root exists, as on the internet: ". NS" is answered (static.) unless
// records for the root are given, so a Vetter finds the resolver truthful.
type StaticResolver struct {
	mu      sync.Mutex
	records map[string][]dns.RR
	fail    map[cacheKey]Status
	Queries []string // "name TYPE", in order, for tests that count lookups
	AD      bool     // set the AD bit on every answer
}

// NewStaticResolver parses zone-file lines ("example.com. 300 IN MX 10 mx.example.com.").
// It panics on a syntax error: it is for tests.
func NewStaticResolver(lines ...string) *StaticResolver {
	r := &StaticResolver{records: map[string][]dns.RR{}, fail: map[cacheKey]Status{}}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil {
			panic("StaticResolver: " + err.Error())
		}
		if rr == nil {
			continue
		}
		r.Add(rr)
	}
	return r
}

// Add serves rr as given, for records that zone-file syntax cannot express
// (a TXT character-string over 255 octets, which no server can send but a
// zone file can hold).
func (r *StaticResolver) Add(rr dns.RR) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := dns.CanonicalName(rr.Header().Name)
	r.records[n] = append(r.records[n], rr)
}

// Fail makes lookups of name/qtype (qtype 0: every type) end with status.
func (r *StaticResolver) Fail(name string, qtype uint16, status Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[cacheKey{dns.CanonicalName(name), qtype}] = status
}

// Lookup implements Resolver.
func (r *StaticResolver) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	name = dns.CanonicalName(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Queries = append(r.Queries, name+" "+dns.TypeToString[qtype])
	ans := Answer{Name: name, Type: qtype, Server: "static", AD: r.AD}
	if err := ctx.Err(); err != nil {
		ans.Status, ans.Err = StatusTimeout, err
		return ans
	}
	for _, k := range []cacheKey{{name, qtype}, {name, 0}} {
		if st, ok := r.fail[k]; ok {
			ans.Status = st
			ans.Err = errStatus(st)
			return ans
		}
	}
	cur := name
	for hop := 0; hop < 16; hop++ {
		var cname string
		for _, rr := range r.recordsAt(cur) {
			if rr.Header().Rrtype == qtype {
				ans.Records = append(ans.Records, rr)
			} else if cn, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				cname = dns.CanonicalName(cn.Target)
			}
		}
		if len(ans.Records) > 0 {
			ans.Status = StatusOK
			return ans
		}
		if cname == "" {
			break
		}
		ans.CNAMEs = append(ans.CNAMEs, cname)
		cur = cname
	}
	if len(r.recordsAt(cur)) > 0 || r.hasDescendant(cur) {
		ans.Status = StatusNoData
	} else {
		ans.Status = StatusNXDomain
		ans.Rcode = dns.RcodeNameError
	}
	return ans
}

// recordsAt returns the records owned by name; the root has an NS record
// unless the test gave the root records of its own.
func (r *StaticResolver) recordsAt(name string) []dns.RR {
	if rrs := r.records[name]; len(rrs) > 0 || name != "." {
		return rrs
	}
	return []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 518400}, Ns: "static."}}
}

func (r *StaticResolver) hasDescendant(name string) bool {
	for n := range r.records {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

func errStatus(st Status) error {
	return &statusError{st}
}

type statusError struct{ st Status }

func (e *statusError) Error() string { return strings.ToUpper(e.st.String()) }
