package dnsbl

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mxray/mxray/internal/lazyre"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

//go:embed lists.json
var dnsblCatalogJSON []byte

// DNSBL target kinds.
const (
	KindIPv4   = "ipv4"
	KindIPv6   = "ipv6"
	KindDomain = "domain"
)

// DNSBL result statuses.
const (
	Listed    = "listed"
	NotListed = "not-listed"
	Unknown   = "unknown"
)

// DefaultConcurrency bounds the (list, target) checks in flight in one
// run. Each check has at most two queries outstanding (the target's A, then
// its TXT; the list's two test points once per run), so one target against
// the ~10 default lists is a single round of queries, and a long target list
// (mxray blocklist - < addresses) is spread across lists rather than
// hammering one. The resolver's own bound (Options.MaxInFlight) applies on
// top of it.
const DefaultConcurrency = 64

// Code is the meaning of one return code or an inclusive range of codes.
type Code struct {
	Code    string `json:"code"` // "127.0.0.2" or "127.0.0.5-127.0.0.7"
	Meaning string `json:"meaning"`
	// Fix, when the list documents what a listing with this code asks of
	// the listed party (PBL: use a smarthost or delist a static address).
	Fix string `json:"fix,omitempty"`
	// Refused marks error codes that mean the list refused this resolver or
	// client (public resolver, rate limit) rather than a typo or a misuse.
	Refused bool `json:"refused,omitempty"`

	lo, hi netip.Addr
}

// Bit is one bit of the last octet of a bitmask list's answer (SURBL,
// URIBL): an entry on several sub-lists answers the sum of their bits.
type Bit struct {
	Bit     int    `json:"bit"`
	Meaning string `json:"meaning"`
}

// DNSBL is one blocklist of the catalog (or one the user named).
type List struct {
	Zone     string   `json:"zone"`
	Name     string   `json:"name"`
	Operator string   `json:"operator,omitempty"`
	Aliases  []string `json:"aliases,omitempty"` // other zone names of the list; "*.x" matches names under x
	Kind     []string `json:"kind"`              // ipv4, ipv6, domain
	Status   string   `json:"status"`            // active, legacy, defunct
	Default  bool     `json:"default,omitempty"` // queried when the user names no lists
	Since    string   `json:"since,omitempty"`   // when it became legacy or defunct
	// ListsEverything: the dead zone was wildcarded and answers "listed" for
	// every query; a receiver still using it rejects all mail.
	ListsEverything bool `json:"lists_everything,omitempty"`
	// RegisteredDomain: the list holds registered domains only; host names
	// are cut to the public suffix plus one label before querying.
	RegisteredDomain       bool     `json:"registered_domain,omitempty"`
	Codes                  []Code   `json:"codes,omitempty"`
	Bits                   []Bit    `json:"bits,omitempty"`
	Errors                 []Code   `json:"errors,omitempty"`
	RefusesPublicResolvers bool     `json:"refuses_public_resolvers,omitempty"`
	Restrictions           []string `json:"restrictions,omitempty"`
	// NeedsKey: only queryable with a Spamhaus DQS key, at KEY.<DQSZone>.
	NeedsKey bool   `json:"needs_key,omitempty"`
	DQSZone  string `json:"dqs_zone,omitempty"`
	// TestListed and TestUnlisted override the RFC 5782 §5 test points for
	// the kind they belong to (a domain: for domain queries).
	TestListed   string   `json:"test_listed,omitempty"`
	TestUnlisted string   `json:"test_unlisted,omitempty"`
	LookupURL    string   `json:"lookup_url,omitempty"`
	DelistURL    string   `json:"delist_url,omitempty"`
	Note         string   `json:"note,omitempty"`
	Sources      []string `json:"sources,omitempty"`

	// Key is the Spamhaus DQS key in use; queries then go to KEY.<DQSZone>.
	// It is never shown in results (see redact).
	Key string `json:"-"`
}

// Takes reports whether the list accepts targets of the kind.
func (l List) Takes(kind string) bool {
	for _, k := range l.Kind {
		if k == kind {
			return true
		}
	}
	return false
}

// Defunct reports whether the list is shut down.
func (l List) Defunct() bool { return l.Status == "defunct" }

// QueryZone is the zone queries go to: KEY.<dqs zone> with a DQS key.
func (l List) QueryZone() string {
	if l.Key != "" && l.DQSZone != "" {
		return l.Key + "." + l.DQSZone
	}
	return l.Zone
}

// Describe is "Spamhaus ZEN (zen.spamhaus.org)".
func (l List) Describe() string {
	if l.Name == "" || l.Name == l.Zone {
		return l.Zone
	}
	return l.Name + " (" + l.Zone + ")"
}

// StatusNote explains a list that is not simply active: defunct since when,
// whether it lists everything, what to do about a bounce that names it. It is
// empty for active lists. mxray explain uses it when a bounce names a list.
func (l List) StatusNote() string {
	switch l.Status {
	case "active":
		return ""
	case "defunct":
		s := l.Describe() + " is defunct"
		if l.Since != "" {
			s += " (since " + l.Since + ")"
		}
		if l.ListsEverything {
			s += " and its zone answers \"listed\" for every query"
		}
		s += "."
		if l.Note != "" {
			s += " " + l.Note
		}
		return s
	default:
		s := l.Describe() + " is " + l.Status
		if l.Since != "" {
			s += " (since " + l.Since + ")"
		}
		s += "."
		if l.Note != "" {
			s += " " + l.Note
		}
		return s
	}
}

// dnsblURL fills {target} in the list's lookup or delisting URL.
func dnsblURL(tmpl, target string) string {
	return strings.ReplaceAll(tmpl, "{target}", target)
}

// catalog is the parsed lists.json.
type dnsblCatalog struct {
	Comment         string `json:"comment,omitempty"`
	PublicResolvers []struct {
		Name  string   `json:"name"`
		Addrs []string `json:"addrs"`
	} `json:"public_resolvers"`
	Lists []List `json:"lists"`
}

var (
	dnsblCatalogOnce     sync.Once
	dnsblCatalogLists    []List
	dnsblPublicResolvers map[netip.Addr]string
)

func loadDNSBLCatalog() {
	dnsblCatalogOnce.Do(func() {
		lists, pub, err := parseDNSBLCatalog(dnsblCatalogJSON)
		if err != nil {
			// The catalog is embedded: a bad one is a build bug, caught by
			// TestDNSBLCatalogValid.
			panic("dnsbl: embedded lists.json: " + err.Error())
		}
		dnsblCatalogLists, dnsblPublicResolvers = lists, pub
	})
}

func parseDNSBLCatalog(data []byte) ([]List, map[netip.Addr]string, error) {
	var c dnsblCatalog
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields() // a misspelt field would silently drop a fact
	if err := dec.Decode(&c); err != nil {
		return nil, nil, err
	}
	pub := map[netip.Addr]string{}
	for _, r := range c.PublicResolvers {
		for _, a := range r.Addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, nil, fmt.Errorf("public resolver %s: %v", r.Name, err)
			}
			pub[ip] = r.Name
		}
	}
	seen := map[string]bool{}
	for i := range c.Lists {
		l := &c.Lists[i]
		if err := l.prepare(); err != nil {
			return nil, nil, err
		}
		if seen[l.Zone] {
			return nil, nil, fmt.Errorf("zone %s twice", l.Zone)
		}
		seen[l.Zone] = true
		if len(l.Sources) == 0 {
			return nil, nil, fmt.Errorf("%s: no sources", l.Zone)
		}
	}
	return c.Lists, pub, nil
}

// prepare validates a list and parses its codes.
func (l *List) prepare() error {
	l.Zone = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(l.Zone), "."))
	if _, ok := dns.IsDomainName(l.Zone); !ok || !strings.Contains(l.Zone, ".") {
		return fmt.Errorf("zone %q is not a domain name", l.Zone)
	}
	if l.Name == "" {
		l.Name = l.Zone
	}
	if len(l.Kind) == 0 {
		return fmt.Errorf("%s: no kind", l.Zone)
	}
	for _, k := range l.Kind {
		if k != KindIPv4 && k != KindIPv6 && k != KindDomain {
			return fmt.Errorf("%s: unknown kind %q", l.Zone, k)
		}
	}
	switch l.Status {
	case "active", "legacy", "defunct":
	default:
		return fmt.Errorf("%s: unknown status %q", l.Zone, l.Status)
	}
	for _, set := range [][]Code{l.Codes, l.Errors} {
		for i := range set {
			if err := set[i].parse(); err != nil {
				return fmt.Errorf("%s: %v", l.Zone, err)
			}
		}
	}
	for _, b := range l.Bits {
		if b.Bit <= 0 || b.Bit > 255 || b.Bit&(b.Bit-1) != 0 {
			return fmt.Errorf("%s: bit %d is not a single bit of an octet", l.Zone, b.Bit)
		}
	}
	return nil
}

func (c *Code) parse() error {
	lo, hi, found := strings.Cut(c.Code, "-")
	a, err := netip.ParseAddr(strings.TrimSpace(lo))
	if err != nil || !a.Is4() {
		return fmt.Errorf("code %q: not an IPv4 address", c.Code)
	}
	b := a
	if found {
		if b, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil || !b.Is4() || b.Less(a) {
			return fmt.Errorf("code %q: bad range", c.Code)
		}
	}
	c.lo, c.hi = a, b
	return nil
}

// parsed reports whether every code of the list has been parsed.
func (l List) parsed() bool {
	for _, set := range [][]Code{l.Codes, l.Errors} {
		for _, c := range set {
			if !c.lo.IsValid() {
				return false
			}
		}
	}
	return true
}

func (c Code) matches(a netip.Addr) bool {
	return c.lo.IsValid() && !a.Less(c.lo) && !c.hi.Less(a)
}

// Catalog returns every list of the embedded catalog.
func Catalog() []List {
	loadDNSBLCatalog()
	out := make([]List, len(dnsblCatalogLists))
	copy(out, dnsblCatalogLists)
	return out
}

// DefaultLists returns the lists queried when the user names none: active
// lists marked default that need no key.
func DefaultLists() []List {
	var out []List
	for _, l := range Catalog() {
		if l.Default && l.Status == "active" && !l.NeedsKey {
			out = append(out, l)
		}
	}
	return out
}

// ByZone finds a list of the catalog by the zone a bounce or the user
// names: case-insensitive, with or without the trailing dot; an alias
// ("rhsbl.ahbl.org", any name under sorbs.net); a Spamhaus DQS zone with or
// without its key label ("KEY.zen.dq.spamhaus.net" is ZEN).
func ByZone(zone string) (List, bool) {
	loadDNSBLCatalog()
	z := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	if z == "" {
		return List{}, false
	}
	for _, l := range dnsblCatalogLists {
		if l.Zone == z {
			return l, true
		}
	}
	for _, l := range dnsblCatalogLists {
		for _, a := range l.Aliases {
			if a == z {
				return l, true
			}
		}
		if d := l.DQSZone; d != "" {
			if z == d {
				return l, true
			}
			if prefix, ok := strings.CutSuffix(z, "."+d); ok && !strings.Contains(prefix, ".") {
				return l, true // KEY.<dqs zone>
			}
		}
	}
	for _, l := range dnsblCatalogLists {
		for _, a := range l.Aliases {
			if parent, ok := strings.CutPrefix(a, "*."); ok && strings.HasSuffix(z, "."+parent) {
				return l, true
			}
		}
	}
	return List{}, false
}

// PublicResolverName names the well-known public resolver at server
// ("8.8.8.8", "8.8.8.8:53", "[2001:4860:4860::8888]:53"), or "".
func PublicResolverName(server string) string {
	loadDNSBLCatalog()
	host := server
	if ap, err := netip.ParseAddrPort(server); err == nil {
		host = ap.Addr().String()
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return ""
	}
	return dnsblPublicResolvers[ip.Unmap()]
}

// Selection chooses the lists of a run.
type Selection struct {
	// Lists adds "ZONE" or "ZONE:KIND[,KIND]" (a zone not in the catalog is
	// queried as a generic RFC 5782 list of that kind, ipv4 by default) and
	// removes "-ZONE".
	Lists []string
	// Replace starts from no lists instead of the defaults (--lists FILE).
	Replace bool
	// All queries every list of the catalog, legacy and defunct included
	// (the health check then shows the dead ones for what they are).
	All bool
	// DQSKey is a Spamhaus Data Query Service key: Spamhaus lists are then
	// queried at KEY.<list>.dq.spamhaus.net, and DQS-only lists are added.
	DQSKey string
	// Custom are full list definitions (--lists FILE.json, same schema as
	// the catalog); they are added, replacing a catalog entry of the same zone.
	Custom []List
}

// Skip is a list that was named but not queried, and why.
type Skip struct {
	Zone   string `json:"zone"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

var dqsKeyRE = lazyre.New(`^[a-z0-9]{1,63}$`)

// Select resolves a selection into the lists to query and the named
// lists that are not queried (defunct without All, DQS-only without a key).
func Select(sel Selection) ([]List, []Skip, error) {
	key := strings.ToLower(strings.TrimSpace(sel.DQSKey))
	if key != "" && !dqsKeyRE.MatchString(key) {
		return nil, nil, errors.New("the DQS key must be letters and digits (one DNS label)")
	}
	var chosen []List
	index := map[string]int{}
	add := func(l List) {
		if i, ok := index[l.Zone]; ok {
			chosen[i] = l
			return
		}
		index[l.Zone] = len(chosen)
		chosen = append(chosen, l)
	}
	var skipped []Skip
	switch {
	case sel.All:
		for _, l := range Catalog() {
			add(l)
		}
	case !sel.Replace:
		for _, l := range DefaultLists() {
			add(l)
		}
		if key != "" {
			for _, l := range Catalog() {
				if l.NeedsKey && l.Status == "active" {
					add(l)
				}
			}
		}
	}
	for _, l := range sel.Custom {
		if err := l.prepare(); err != nil {
			return nil, nil, err
		}
		add(l)
	}
	removed := map[string]bool{}
	for _, spec := range sel.Lists {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		if z, ok := strings.CutPrefix(spec, "-"); ok {
			l, known := ByZone(z)
			zone := strings.ToLower(strings.TrimSuffix(z, "."))
			if known {
				zone = l.Zone
			}
			removed[zone] = true
			continue
		}
		l, err := parseDNSBLSpec(spec)
		if err != nil {
			return nil, nil, err
		}
		delete(removed, l.Zone)
		add(l)
	}
	var out []List
	for _, l := range chosen {
		if removed[l.Zone] {
			continue
		}
		if l.DQSZone != "" && key != "" {
			l.Key = key
		}
		switch {
		case l.NeedsKey && l.Key == "":
			skipped = append(skipped, Skip{l.Zone, l.Name, "queryable only with a Spamhaus DQS key (--dqs-key)"})
			continue
		case l.Defunct() && !sel.All:
			skipped = append(skipped, Skip{l.Zone, l.Name, l.StatusNote() + " Not queried (--all-lists queries it anyway)."})
			continue
		}
		out = append(out, l)
	}
	return out, skipped, nil
}

// parseDNSBLSpec turns "ZONE" or "ZONE:KIND[,KIND]" into a list: the catalog
// entry when the zone is known (kinds then narrow it), else a generic list.
func parseDNSBLSpec(spec string) (List, error) {
	zone, kinds, hasKinds := strings.Cut(spec, ":")
	zone = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	l, known := ByZone(zone)
	if !known || l.Zone != zone {
		// An alias or an unknown zone is queried as named.
		base := l
		l = List{Zone: zone, Name: zone, Kind: []string{KindIPv4}, Status: "active",
			Sources: []string{"named by the user"}}
		if known {
			l.Name, l.Operator, l.Status, l.Since, l.Note = base.Name+" ("+zone+")", base.Operator, base.Status, base.Since, base.Note
			l.Kind, l.ListsEverything, l.LookupURL, l.DelistURL = base.Kind, base.ListsEverything, base.LookupURL, base.DelistURL
			l.Codes, l.Errors, l.Bits = base.Codes, base.Errors, base.Bits
		}
	}
	if hasKinds {
		l.Kind = nil
		for _, k := range strings.Split(kinds, ",") {
			l.Kind = append(l.Kind, strings.ToLower(strings.TrimSpace(k)))
		}
	}
	if err := l.prepare(); err != nil {
		return List{}, fmt.Errorf("--list %q: %v", spec, err)
	}
	return l, nil
}

// ParseDefinitions reads list definitions in the catalog's JSON schema:
// {"lists": [{"zone": ..., "name": ..., "kind": [...], "status": "active",
// "codes": [...], ...}]}. Sources default to "user definitions".
func ParseDefinitions(data []byte) ([]List, error) {
	var c dnsblCatalog
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if len(c.Lists) == 0 {
		return nil, errors.New(`no lists (want {"lists": [...]})`)
	}
	for i := range c.Lists {
		l := &c.Lists[i]
		if l.Status == "" {
			l.Status = "active"
		}
		if len(l.Sources) == 0 {
			l.Sources = []string{"user definitions"}
		}
		if err := l.prepare(); err != nil {
			return nil, err
		}
	}
	return c.Lists, nil
}

// ParseListFile reads list specs, one a line ("ZONE", "ZONE:KIND",
// "-ZONE"); blank lines and text after '#' are ignored.
func ParseListFile(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("line %d: %q: want one ZONE[:KIND] per line", n, line)
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

// dnsblTarget is a parsed target: an address or a domain.
type dnsblTarget struct {
	Text   string // as shown: the address or the domain
	Kind   string
	Addr   netip.Addr
	Domain string
}

// ParseDNSBLTarget parses an IP address or a domain name.
func parseDNSBLTarget(s string) (dnsblTarget, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		if a.Zone() != "" {
			return dnsblTarget{}, fmt.Errorf("%q: an address with a zone index cannot be on a blocklist", s)
		}
		a = a.Unmap()
		t := dnsblTarget{Text: a.String(), Addr: a, Kind: KindIPv4}
		if a.Is6() {
			t.Kind = KindIPv6
		}
		return t, nil
	}
	d, err := dnscheck.NormalizeDomain(s)
	if err != nil {
		return dnsblTarget{}, err
	}
	return dnsblTarget{Text: d, Kind: KindDomain, Domain: d}, nil
}

// ValidTarget reports whether s is an IP address or a domain name.
func ValidTarget(s string) error {
	_, err := parseDNSBLTarget(s)
	return err
}

// dnsblReverseIP is the RFC 5782 §2.1/§2.4 form of an address: reversed octets
// for IPv4, reversed nibbles for IPv6 (a 4in6 address stays IPv6 here: the
// IPv6 test points are ::ffff:127.0.0.x).
func dnsblReverseIP(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	b := a.As16()
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for i := 15; i >= 0; i-- {
		out = append(out, hex[b[i]&0xf], '.', hex[b[i]>>4], '.')
	}
	return string(out[:len(out)-1])
}

// queryName is the name to look up for the target on the list.
func (l List) queryName(t dnsblTarget) string {
	switch t.Kind {
	case KindDomain:
		d := t.Domain
		if l.RegisteredDomain {
			if r, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
				d = r
			}
		}
		return d + "." + l.QueryZone() + "."
	default:
		return dnsblReverseIP(t.Addr) + "." + l.QueryZone() + "."
	}
}

// Result is the answer of one list about one target.
type Result struct {
	Zone   string `json:"zone"`
	List   string `json:"list"`
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Query  string `json:"query"` // the name looked up (a DQS key is redacted)
	Status string `json:"status"`
	// Codes are the A records received; Meanings their meanings on this list.
	Codes    []string `json:"codes,omitempty"`
	Meanings []string `json:"meanings,omitempty"`
	// Fixes are code-specific advice from the catalog.
	Fixes []string `json:"fixes,omitempty"`
	TXT   []string `json:"txt,omitempty"`
	// Reason says why the result is unknown.
	Reason string `json:"reason,omitempty"`
	// Refused: the list answered with an error code meaning it refuses this
	// resolver or client (public resolver, rate limit, blocked).
	Refused bool `json:"refused,omitempty"`
	// Unhealthy: the list failed its RFC 5782 §5 test points; its answer is ignored.
	Unhealthy bool   `json:"unhealthy,omitempty"`
	LookupURL string `json:"lookup_url,omitempty"`
	DelistURL string `json:"delist_url,omitempty"`
	// Evidence: the answers as received.
	Evidence []string        `json:"evidence,omitempty"`
	Duration report.Duration `json:"duration_ms"`
}

// Health is a list's RFC 5782 §5 self-test for one kind of target.
type Health struct {
	Zone     string   `json:"zone"`
	Kind     string   `json:"kind"`
	OK       bool     `json:"ok"`
	Refused  bool     `json:"refused,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
}

// Options tune a Checker.
type Options struct {
	// Concurrency bounds the (list, target) checks in flight; default
	// DefaultConcurrency.
	Concurrency int
	// Servers are the resolver's nameservers, to warn when one is a
	// well-known public resolver (Spamhaus, URIBL, SURBL refuse those).
	Servers []string
}

// Checker queries blocklists, caching each list's health per run.
type Checker struct {
	r   dnscheck.Resolver
	opt Options

	mu     sync.Mutex
	health map[dnsblHealthKey]*dnsblHealthCall
}

type dnsblHealthKey struct{ zone, kind string }

type dnsblHealthCall struct {
	done chan struct{}
	h    Health
}

// NewChecker returns a checker over the resolver.
func NewChecker(r dnscheck.Resolver, opt Options) *Checker {
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	return &Checker{r: r, opt: opt, health: map[dnsblHealthKey]*dnsblHealthCall{}}
}

// Query asks one list about one target (an IP address or a domain),
// with the list's health check. To check many lists or targets, use a
// Checker, which runs them concurrently and checks each list's health
// once.
func Query(ctx context.Context, r dnscheck.Resolver, list List, target string) Result {
	return NewChecker(r, Options{}).Query(ctx, list, target)
}

// Query asks one list about one target.
func (c *Checker) Query(ctx context.Context, list List, target string) Result {
	start := time.Now()
	res := Result{Zone: list.Zone, List: list.Name, Target: strings.TrimSpace(target), Status: Unknown}
	defer func() { res.Duration = report.Duration(time.Since(start)) }()
	t, err := parseDNSBLTarget(target)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Target, res.Kind = t.Text, t.Kind
	res.LookupURL, res.DelistURL = dnsblURL(list.LookupURL, t.Text), dnsblURL(list.DelistURL, t.Text)
	if !list.parsed() {
		// A list built outside the catalog: parse its codes.
		if err := list.prepare(); err != nil {
			res.Reason = err.Error()
			return res
		}
	}
	if !list.Takes(t.Kind) {
		res.Reason = fmt.Sprintf("%s lists %s, not %s targets", list.Describe(), strings.Join(list.Kind, "/"), t.Kind)
		return res
	}
	if list.NeedsKey && list.Key == "" {
		res.Reason = list.Describe() + " is queryable only with a Spamhaus DQS key"
		return res
	}
	qname := list.queryName(t)
	res.Query = list.redact(qname)

	// The list's test points go out in the same round as the query.
	healthc := make(chan Health, 1)
	go func() { healthc <- c.healthOf(ctx, list, t.Kind) }()

	ans := c.r.Lookup(ctx, qname, dns.TypeA)
	res.Evidence = append(res.Evidence, list.redact(ans.Describe()))
	for _, s := range ans.Strings() {
		res.Evidence = append(res.Evidence, list.redact(s))
	}
	var txtc chan dnscheck.Answer
	cl := classifyDNSBLAnswer(list, ans)
	res.Codes, res.Meanings, res.Fixes = cl.codes, cl.meanings, cl.fixes
	if cl.status == Listed {
		// TXT carries the list's reason and URL (RFC 5782 §2.1); fetch it
		// as soon as we know it is a listing, while the health check runs.
		txtc = make(chan dnscheck.Answer, 1)
		go func() { txtc <- c.r.Lookup(ctx, qname, dns.TypeTXT) }()
	}
	h := <-healthc
	if txtc != nil {
		if txt := <-txtc; txt.Exists() {
			for _, s := range dnscheck.TXTStrings(txt) {
				res.TXT = append(res.TXT, list.redact(s))
			}
		}
	}
	switch {
	case cl.status == Unknown:
		res.Reason, res.Refused = cl.reason, cl.refused
	case !h.OK:
		res.Unhealthy, res.Refused = true, h.Refused
		res.Reason = "answer ignored: " + h.Reason
		res.Meanings, res.Fixes = nil, nil
	default:
		res.Status = cl.status
	}
	return res
}

// redact hides the DQS key in text shown to the user.
func (l List) redact(s string) string {
	if l.Key == "" {
		return s
	}
	return strings.ReplaceAll(s, l.Key+".", "<dqs-key>.")
}

type dnsblClassified struct {
	status   string
	codes    []string
	meanings []string
	fixes    []string
	reason   string
	refused  bool
}

// classifyDNSBLAnswer reads an A answer as a listing, a non-listing or unknown.
func classifyDNSBLAnswer(l List, ans dnscheck.Answer) dnsblClassified {
	var c dnsblClassified
	switch {
	case ans.Missing():
		c.status = NotListed
		return c
	case ans.Failed():
		c.status = Unknown
		c.reason = "the query failed: " + ans.Status.String()
		if ans.Err != nil && ans.Status != dnscheck.StatusServFail && ans.Status != dnscheck.StatusRefused {
			c.reason += " (" + ans.Err.Error() + ")"
		}
		return c
	}
	addrs := dnscheck.AddrsOf(ans)
	if len(addrs) == 0 {
		c.status = NotListed
		return c
	}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	var errs, bogus []string
	for _, a := range addrs {
		c.codes = append(c.codes, a.String())
		if !a.Is4() || !loopback.Contains(a) {
			bogus = append(bogus, a.String())
			continue
		}
		if e, ok := l.errorCode(a); ok {
			errs = append(errs, a.String()+": "+e.Meaning)
			c.refused = c.refused || e.Refused
			continue
		}
		c.meanings = append(c.meanings, l.meaningOf(a)...)
		if f := l.fixOf(a); f != "" && !dnsblContains(c.fixes, f) {
			c.fixes = append(c.fixes, f)
		}
	}
	switch {
	case len(bogus) > 0:
		c.status = Unknown
		c.reason = "answer " + strings.Join(bogus, ", ") + " is outside 127.0.0.0/8, so it is not a blocklist answer (a resolver rewriting NXDOMAIN, or a lapsed zone)"
		c.meanings, c.fixes = nil, nil
	case len(errs) > 0:
		c.status = Unknown
		c.reason = "the list answered an error code, not a listing: " + strings.Join(errs, "; ")
		c.meanings, c.fixes = nil, nil
	default:
		c.status = Listed
	}
	return c
}

func (l List) errorCode(a netip.Addr) (Code, bool) {
	for _, e := range l.Errors {
		if e.matches(a) {
			return e, true
		}
	}
	return Code{}, false
}

func (l List) fixOf(a netip.Addr) string {
	for _, c := range l.Codes {
		if c.matches(a) {
			return c.Fix
		}
	}
	return ""
}

func dnsblContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// meaningOf gives the meanings of a listing code: the code table, or the
// set bits of the last octet for bitmask lists.
func (l List) meaningOf(a netip.Addr) []string {
	for _, c := range l.Codes {
		if c.matches(a) {
			return []string{a.String() + ": " + c.Meaning}
		}
	}
	if len(l.Bits) > 0 {
		last := int(a.As4()[3])
		var out []string
		for _, b := range l.Bits {
			if last&b.Bit != 0 {
				out = append(out, a.String()+" (bit "+strconv.Itoa(b.Bit)+"): "+b.Meaning)
			}
		}
		if len(out) > 0 {
			return out
		}
		return []string{a.String() + ": no documented bit set (listed, meaning unknown)"}
	}
	if len(l.Codes) == 0 {
		return []string{a.String() + ": listed"}
	}
	return []string{a.String() + ": listed (return code not documented for this list)"}
}

// testPoints returns the RFC 5782 §5 test point names for the kind: one that
// must be listed and one that must not.
func (l List) testPoints(kind string) (listed, unlisted string) {
	zone := l.QueryZone() + "."
	switch kind {
	case KindIPv4:
		listed, unlisted = "2.0.0.127."+zone, "1.0.0.127."+zone
	case KindIPv6:
		listed = dnsblReverseIP(netip.MustParseAddr("::ffff:7f00:2")) + "." + zone
		unlisted = dnsblReverseIP(netip.MustParseAddr("::ffff:7f00:1")) + "." + zone
	default:
		listed, unlisted = "test."+zone, "invalid."+zone
	}
	override := func(name string) (string, bool) {
		if name == "" {
			return "", false
		}
		t, err := parseDNSBLTarget(name)
		if err != nil || t.Kind != kind {
			return "", false
		}
		if t.Kind == KindDomain {
			return t.Domain + "." + zone, true
		}
		return dnsblReverseIP(t.Addr) + "." + zone, true
	}
	if n, ok := override(l.TestListed); ok {
		listed = n
	}
	if n, ok := override(l.TestUnlisted); ok {
		unlisted = n
	}
	return listed, unlisted
}

// healthOf runs (once per checker) the list's test points for the kind.
func (c *Checker) healthOf(ctx context.Context, l List, kind string) Health {
	key := dnsblHealthKey{l.QueryZone(), kind}
	c.mu.Lock()
	hc, ok := c.health[key]
	if !ok {
		hc = &dnsblHealthCall{done: make(chan struct{})}
		c.health[key] = hc
	}
	c.mu.Unlock()
	if ok {
		select {
		case <-hc.done:
			return hc.h
		case <-ctx.Done():
			return Health{Zone: l.Zone, Kind: kind, Reason: "no health result before the deadline"}
		}
	}
	hc.h = checkDNSBLHealth(ctx, c.r, l, kind)
	close(hc.done)
	return hc.h
}

// Health returns the health checks done so far, sorted by zone and kind.
func (c *Checker) Health() []Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Health
	for _, hc := range c.health {
		select {
		case <-hc.done:
			out = append(out, hc.h)
		default:
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Zone != out[j].Zone {
			return out[i].Zone < out[j].Zone
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// checkHealth queries both test points concurrently (RFC 5782 §5).
func checkDNSBLHealth(ctx context.Context, r dnscheck.Resolver, l List, kind string) Health {
	h := Health{Zone: l.Zone, Kind: kind}
	pos, neg := l.testPoints(kind)
	var pa, na dnscheck.Answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pa = r.Lookup(ctx, pos, dns.TypeA) }()
	go func() { defer wg.Done(); na = r.Lookup(ctx, neg, dns.TypeA) }()
	wg.Wait()
	for _, a := range []dnscheck.Answer{pa, na} {
		h.Evidence = append(h.Evidence, l.redact(a.Describe()))
		for _, s := range a.Strings() {
			h.Evidence = append(h.Evidence, l.redact(s))
		}
	}
	pc, nc := classifyDNSBLAnswer(l, pa), classifyDNSBLAnswer(l, na)
	posName, negName := l.redact(pos), l.redact(neg)
	switch {
	case pc.refused || nc.refused:
		h.Refused = true
		r := pc.reason
		if !pc.refused {
			r = nc.reason
		}
		h.Reason = "the list refuses queries from this resolver: " + r
	case nc.status == Listed:
		h.Reason = fmt.Sprintf("the list answers \"listed\" for %s, which RFC 5782 §5 says must never be listed: it lists everything (a wildcarded or dead zone)", negName)
	case nc.status == Unknown:
		h.Reason = fmt.Sprintf("its negative test point %s could not be checked: %s", negName, nc.reason)
	case pc.status == NotListed:
		h.Reason = fmt.Sprintf("its test point %s, which must always be listed (RFC 5782 §5), is not: the list does not answer this resolver (shut down, or refusing it)", posName)
	case pc.status == Unknown:
		h.Reason = fmt.Sprintf("its test point %s could not be checked: %s", posName, pc.reason)
	default:
		h.OK = true
	}
	return h
}

// Report is the result of checking targets against lists.
type Report struct {
	Targets []string `json:"targets"`
	Lists   []string `json:"lists"` // zones queried
	// Resolvers and PublicResolver: the nameservers used; the name of the
	// well-known public resolver among them, if any.
	Resolvers      []string `json:"resolvers,omitempty"`
	PublicResolver string   `json:"public_resolver,omitempty"`
	Skipped        []Skip   `json:"skipped,omitempty"`
	BadTargets     []string `json:"bad_targets,omitempty"`
	Health         []Health `json:"health,omitempty"`
	Results        []Result `json:"results"`

	lists map[string]List
}

// Merge appends another report of the same checker (a second batch of
// targets) to r.
func (r *Report) Merge(o *Report) {
	if o == nil {
		return
	}
	r.Targets = append(r.Targets, o.Targets...)
	r.BadTargets = append(r.BadTargets, o.BadTargets...)
	r.Results = append(r.Results, o.Results...)
	r.Skipped = append(r.Skipped, o.Skipped...)
	if r.lists == nil {
		r.lists = map[string]List{}
	}
	for z, l := range o.lists {
		if _, ok := r.lists[z]; !ok {
			r.lists[z] = l
			r.Lists = append(r.Lists, z)
		}
	}
	// Health is per checker: the later report has every check so far.
	if len(o.Health) >= len(r.Health) {
		r.Health = o.Health
	}
	if r.PublicResolver == "" {
		r.PublicResolver, r.Resolvers = o.PublicResolver, o.Resolvers
	}
}

// Check asks every list about every target it takes, concurrently within
// the checker's bound. Targets are IP addresses or domains; lists that do
// not take a target's kind are not asked about it.
func (c *Checker) Check(ctx context.Context, lists []List, targets []string) *Report {
	rep := &Report{Resolvers: c.opt.Servers, lists: map[string]List{}}
	for _, s := range c.opt.Servers {
		if n := PublicResolverName(s); n != "" {
			rep.PublicResolver = n + " (" + s + ")"
			break
		}
	}
	for _, l := range lists {
		rep.Lists = append(rep.Lists, l.Zone)
		rep.lists[l.Zone] = l
	}
	type job struct {
		list   List
		target string
	}
	var jobs []job
	seen := map[string]bool{}
	// Target-major order: consecutive jobs go to different lists, so the
	// bound spreads the load over the lists' servers.
	for _, raw := range targets {
		t, err := parseDNSBLTarget(raw)
		if err != nil {
			rep.BadTargets = append(rep.BadTargets, err.Error())
			continue
		}
		if seen[t.Text] {
			continue
		}
		seen[t.Text] = true
		rep.Targets = append(rep.Targets, t.Text)
		for _, l := range lists {
			if l.Takes(t.Kind) {
				jobs = append(jobs, job{l, t.Text})
			}
		}
	}
	rep.Results = make([]Result, len(jobs))
	sem := make(chan struct{}, c.opt.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			rep.Results[i] = Result{Zone: j.list.Zone, List: j.list.Name, Target: j.target, Status: Unknown,
				Reason: "not queried before the deadline"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rep.Results[i] = c.Query(ctx, j.list, j.target)
		}()
	}
	wg.Wait()
	rep.Health = c.Health()
	return rep
}
