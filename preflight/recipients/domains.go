package recipients

// The recipient domains, each looked up once: where its mail goes (RFC 5321
// §5.1 MX, implicit MX; RFC 7505 null MX), whether that exists at all, and
// which provider receives it. Only DNS: never an SMTP RCPT probe of a
// recipient — verifying addresses one by one at scale is what gets a
// sending IP listed.

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/preflight/provider"
)

// Domain status, from the MX lookup (dnscheck.LookupMX).
const (
	StatusMX        = "mx"         // MX hosts with addresses
	StatusImplicit  = "implicit"   // no MX: the domain's own address receives (RFC 5321 §5.1)
	StatusNullMX    = "null-mx"    // RFC 7505: the domain takes no mail
	StatusNXDomain  = "nxdomain"   // the domain does not exist
	StatusNoMail    = "no-mail"    // no MX and no address
	StatusNoAddress = "no-address" // MX hosts, none of which has an address
	StatusUnknown   = "unknown"    // a lookup failed: unknown, never "missing"
	StatusUnchecked = "unchecked"  // past MaxChecked, or the deadline came first
)

// Deliverable reports whether mail to the domain has somewhere to go.
func Deliverable(status string) bool { return status == StatusMX || status == StatusImplicit }

// MaxChecked bounds the domains looked up in one run (the most common
// first); the rest are reported as unchecked.
const MaxChecked = 200_000

// DefaultConcurrency is the number of domains looked up at once. The
// resolver bounds the queries in flight (64 by default); more domains than
// that in progress keep its slots full while answers come back.
const DefaultConcurrency = 256

// DomainResult is one recipient domain, looked up.
type DomainResult struct {
	Domain     string           `json:"domain"`
	Recipients int              `json:"recipients"`
	Status     string           `json:"status"`
	Hosting    provider.Hosting `json:"hosting"`
	MX         []string         `json:"mx,omitempty"` // up to two host names, preference order
	Reason     string           `json:"reason,omitempty"`
}

// CheckOptions tune CheckDomains.
type CheckOptions struct {
	Concurrency int                   // default DefaultConcurrency
	Progress    func(done, total int) // called after each domain, from several goroutines
	MaxChecked  int                   // default MaxChecked
}

// CheckDomains looks up every domain of the list once, the domains with
// the most recipients first, and returns them in that order.
func CheckDomains(ctx context.Context, r dnscheck.Resolver, domains map[string]int, opt CheckOptions) []DomainResult {
	out := make([]DomainResult, 0, len(domains))
	for d, n := range domains {
		out = append(out, DomainResult{Domain: d, Recipients: n, Status: StatusUnchecked, Hosting: provider.ClassifyUnlooked(d)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Recipients != out[j].Recipients {
			return out[i].Recipients > out[j].Recipients
		}
		return out[i].Domain < out[j].Domain
	})
	limit := opt.MaxChecked
	if limit <= 0 {
		limit = MaxChecked
	}
	workers := opt.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	total := min(len(out), limit)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, total); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				lookUp(ctx, r, &out[i])
				n := int(done.Add(1))
				if opt.Progress != nil {
					opt.Progress(n, total)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// lookUp fills one domain's status and hosting from its MX lookup.
func lookUp(ctx context.Context, r dnscheck.Resolver, d *DomainResult) {
	mx := dnscheck.LookupMX(ctx, r, d.Domain)
	var names []string
	for _, h := range mx.Hosts {
		if !mx.Implicit {
			names = append(names, h.Name)
		}
	}
	d.MX = names[:min(len(names), 2)]
	d.Status, d.Reason = status(mx)
	d.Hosting = provider.Classify(d.Domain, names)
	if d.Status == StatusUnknown && len(names) == 0 {
		d.Hosting = provider.ClassifyUnlooked(d.Domain) // no MX host names to judge by
	}
}

// status sums an MX result up.
func status(mx *dnscheck.MXResult) (string, string) {
	switch {
	case mx.Answer.Failed():
		return StatusUnknown, mx.Answer.Describe()
	case mx.Answer.Status == dnscheck.StatusNXDomain:
		return StatusNXDomain, ""
	case mx.NullMX && len(mx.Hosts) == 0:
		return StatusNullMX, ""
	}
	known, unknown := false, ""
	for _, h := range mx.Hosts {
		switch h.Status {
		case "ok", "partial":
			if mx.Implicit {
				return StatusImplicit, ""
			}
			return StatusMX, ""
		case "unknown":
			unknown = h.Lookup.A.Describe()
		default:
			known = true
		}
	}
	switch {
	case unknown != "":
		return StatusUnknown, unknown
	case mx.Implicit || !known:
		return StatusNoMail, ""
	}
	return StatusNoAddress, ""
}
