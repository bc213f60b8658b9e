package serve

// The address policy: what a page that probes on request may be asked
// about and may connect to. Loopback, private, link-local and the other
// special-use ranges of RFC 6890 (dnscheck.SpecialUse) are refused as
// targets, after resolution too, and every connection the checks open is
// checked again at dial time — an MX or MTA-STS host that resolves to such
// an address is never reached. Special-use domain names (the IANA registry:
// RFC 6761, RFC 6762, RFC 8375, RFC 9476, ICANN's .internal) are refused
// too, and are never asked of the resolver: on a corporate resolver they
// would show internal zones to whoever uses the page.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
)

// specialUseNames are the top-level names that exist only on local
// networks or nowhere, with where they are reserved.
var specialUseNames = map[string]string{
	"localhost": "loopback (RFC 6761 §6.3)",
	"local":     "multicast DNS on the local link (RFC 6762)",
	"test":      "reserved for testing (RFC 6761 §6.2)",
	"invalid":   "reserved as never valid (RFC 6761 §6.4)",
	"example":   "reserved for documentation (RFC 6761 §6.5)",
	"onion":     "Tor onion services (RFC 7686)",
	"alt":       "non-DNS namespaces (RFC 9476)",
	"internal":  "private use (ICANN, 2024)",
}

// smtpPorts are the ports a public page may probe: SMTP (RFC 5321),
// submission (RFC 6409) and submissions (RFC 8314).
var smtpPorts = map[int]bool{25: true, 465: true, 587: true}

// ErrRefused marks a target the policy refuses (HTTP 403).
var ErrRefused = errors.New("refused")

// policy decides which targets may be checked and which addresses dialed.
type policy struct {
	// allowPrivate: --allow-private, or a sealed world.
	allowPrivate bool
	// names and prefixes are the --allow-target patterns; both empty:
	// every public target is allowed.
	names    []string
	prefixes []netip.Prefix
}

// parseAllowTargets reads --allow-target patterns: a domain (the domain
// and every name under it), an IP address, or a CIDR range.
func parseAllowTargets(patterns []string) (names []string, prefixes []netip.Prefix, err error) {
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if pf, err := netip.ParsePrefix(p); err == nil {
			prefixes = append(prefixes, pf.Masked())
			continue
		}
		if a, err := netip.ParseAddr(p); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		d, err := dnscheck.NormalizeDomain(strings.TrimPrefix(p, "*."))
		if err != nil {
			return nil, nil, fmt.Errorf("--allow-target %q: want a domain, an IP address or a CIDR range: %v", p, err)
		}
		names = append(names, d)
	}
	return names, prefixes, nil
}

func (p policy) restricted() bool { return len(p.names) > 0 || len(p.prefixes) > 0 }

func refusedf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// specialName says why a name is a special-use name, or "".
func specialName(name string) string {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "home.arpa" || strings.HasSuffix(name, ".home.arpa") {
		return "a home network name (RFC 8375)"
	}
	tld := name[strings.LastIndexByte(name, '.')+1:]
	if why, ok := specialUseNames[tld]; ok {
		return "a special-use name: ." + tld + " is " + why
	}
	return ""
}

// checkName judges a domain or host name asked about.
func (p policy) checkName(name string) error {
	if why := specialName(name); why != "" && !p.allowPrivate {
		return refusedf("%s is %s; this server checks public names only (start it with --allow-private to allow them)", name, why)
	}
	if p.restricted() && !p.nameAllowed(name) {
		return refusedf("%s is not among the targets this server may check (--allow-target)", name)
	}
	return nil
}

func (p policy) nameAllowed(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, n := range p.names {
		if name == n || strings.HasSuffix(name, "."+n) {
			return true
		}
	}
	return false
}

func (p policy) addrAllowed(a netip.Addr) bool {
	for _, pf := range p.prefixes {
		if pf.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// checkAddr judges an IP address asked about (a blocklist target).
func (p policy) checkAddr(a netip.Addr) error {
	if err := p.special(a, a.String()); err != nil {
		return err
	}
	if p.restricted() && !p.addrAllowed(a) {
		return refusedf("%s is not among the targets this server may check (--allow-target)", a)
	}
	return nil
}

func (p policy) special(a netip.Addr, what string) error {
	if why := dnscheck.SpecialUse(a); why != "" && !p.allowPrivate {
		if what == a.String() {
			return refusedf("%s is %s; this server does not look into such addresses (start it with --allow-private to allow them)", a, why)
		}
		return refusedf("%s resolves to %s, which is %s; this server does not connect to such addresses (start it with --allow-private to allow them)", what, a, why)
	}
	return nil
}

// checkHost judges a mail host to probe and the address it resolved to:
// the address must be public, and the name or the address allowed.
func (p policy) checkHost(name string, a netip.Addr, port int) error {
	if !smtpPorts[port] && !p.allowPrivate {
		return refusedf("port %d is not an SMTP port; this server probes 25, 465 and 587 only", port)
	}
	if name != a.String() {
		if why := specialName(name); why != "" && !p.allowPrivate {
			return refusedf("%s is %s; this server checks public names only (start it with --allow-private to allow them)", name, why)
		}
	}
	if err := p.special(a, name); err != nil {
		return err
	}
	if p.restricted() && !p.nameAllowed(name) && !p.addrAllowed(a) {
		return refusedf("%s (%s) is not among the targets this server may check (--allow-target)", name, a)
	}
	return nil
}

// refusedQuery says why the resolver must not be asked about name: a
// special-use name, or the reverse name of a special-use address.
func (p policy) refusedQuery(name string) string {
	if p.allowPrivate {
		return ""
	}
	if why := specialName(name); why != "" {
		return "not asked: " + why
	}
	if a, ok := reverseAddr(name); ok {
		if why := dnscheck.SpecialUse(a); why != "" {
			return "not asked: the reverse name of " + a.String() + ", which is " + why
		}
	}
	return ""
}

// reverseAddr reads the address of a complete in-addr.arpa or ip6.arpa
// name (RFC 1035 §3.5, RFC 3596 §2.5).
func reverseAddr(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		l := strings.Split(rest, ".")
		if len(l) != 4 {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
		return a, err == nil
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		l := strings.Split(rest, ".")
		if len(l) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, n := range l {
			v, err := strconv.ParseUint(n, 16, 4)
			if err != nil || len(n) != 1 {
				return netip.Addr{}, false
			}
			pos := 31 - i
			if pos%2 == 0 {
				b[pos/2] |= byte(v) << 4
			} else {
				b[pos/2] |= byte(v)
			}
		}
		return netip.AddrFrom16(b).Unmap(), true
	}
	return netip.Addr{}, false
}

// guardedResolver is a report's resolver behind the policy: a refused
// name is answered with an error (the check says "unknown" and why),
// never sent. It keeps the client's Trace and Servers.
type guardedResolver struct {
	*dnscheck.Client
	p policy
}

func (g guardedResolver) Lookup(ctx context.Context, name string, qtype uint16) dnscheck.Answer {
	if why := g.p.refusedQuery(name); why != "" {
		return dnscheck.Answer{Name: dns.CanonicalName(name), Type: qtype, Status: dnscheck.StatusError,
			Err: errors.New(why + " (mxray serve policy)")}
	}
	return g.Client.Lookup(ctx, name, qtype)
}

// dialFunc opens a connection.
type dialFunc = func(ctx context.Context, network, address string) (net.Conn, error)

// guardedDial wraps a world's dialer: every address is judged by the
// policy, and SMTP connections (every port but 443) take the process-wide
// lock of their IP address, held until the connection is closed, so that
// concurrent requests never open two SMTP connections to one server.
func guardedDial(dial dialFunc, p policy, locks *check.IPLocks) dialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil, refusedf("%s: mxray serve connects to addresses it resolved itself, not to names", address)
		}
		if err := p.special(a.Unmap(), a.String()); err != nil {
			return nil, err
		}
		if port == "443" {
			return dial(ctx, network, address)
		}
		release, err := locks.Lock(ctx, a.Unmap().String())
		if err != nil {
			return nil, fmt.Errorf("waiting for another SMTP session with %s to end: %w", a.Unmap(), err)
		}
		c, err := dial(ctx, network, address)
		if err != nil {
			release()
			return nil, err
		}
		return &lockedConn{Conn: c, release: release}, nil
	}
}

// lockedConn releases its IP lock when closed.
type lockedConn struct {
	net.Conn
	release func()
}

func (c *lockedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
