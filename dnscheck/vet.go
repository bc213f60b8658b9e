package dnscheck

// Vetting the resolver. A negative answer (NXDOMAIN, NODATA) is evidence
// only if the resolver tells the truth about what exists. Some do not: an
// offline sandbox, a captive portal or a broken forwarder answers NXDOMAIN
// for every name, and a checker that believes it reports "the domain does
// not exist, no SPF, no DMARC" — failures nobody observed.
//
// So, once per run, the resolver is asked about names that must exist: the
// root's NS records (RFC 1034 §5.3.1: the root is where every resolution
// starts, and its NS RRset always exists) and the SOA record of the checked
// domain's top-level domain (RFC 1035 §5.2: every zone has an SOA at its
// apex), when that TLD is delegated in the public root (it is an ICANN entry
// of the Public Suffix List and not a special-use name of RFC 6761 §6,
// RFC 7686 or RFC 9476). A resolver that denies them is lying, and every
// negative answer it gives becomes StatusUntrusted — a failed lookup, which
// every check already reports as unknown.
//
// The questions are sent when the first lookup of a check is, beside it, so
// vetting costs one round trip that overlaps the check's own first round;
// only negative answers wait for the verdict.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// VetTimeout bounds the vetting questions, independently of the check that
// happened to send them first (its deadline must not decide for the others).
const VetTimeout = 15 * time.Second

// A vetting answer is asked again after vetKeep (a long run, or a server,
// notices a resolver that starts or stops lying: a captive portal before
// and after login), and after vetRetry when the question failed.
const (
	vetKeep  = 10 * time.Minute
	vetRetry = 30 * time.Second
)

// Trust is the verdict on a resolver's negative answers.
type Trust int

const (
	Trusted  Trust = iota // it answers names that must exist
	Lying                 // it denies a name that must exist: its negative answers are not evidence
	Unvetted              // the vetting questions failed (timeout, SERVFAIL): negative answers are taken as given
)

var trustNames = [...]string{"trusted", "lying", "unvetted"}

func (t Trust) String() string {
	if t < 0 || int(t) >= len(trustNames) {
		return fmt.Sprintf("trust(%d)", int(t))
	}
	return trustNames[t]
}

// Verdict is what vetting found about the resolver, for one TLD.
type Verdict struct {
	Trust Trust
	// Server is the resolver that answered the vetting questions.
	Server string
	// Evidence holds each vetting answer, described ("./NS: ok via ...").
	Evidence []string
	// Denied is the first name that must exist and was denied, with its
	// answer (". NS: nxdomain", "com. SOA: nxdomain").
	Denied string
}

// Err is the error an untrusted negative answer carries.
func (v Verdict) Err() error {
	return fmt.Errorf("the resolver %s denies names that must exist (%s), so its negative answers cannot be trusted", v.Server, v.Denied)
}

// Vetter vets one resolver, once per question, for a whole run: checks of
// many domains share it (and the questions are cached per TLD).
type Vetter struct {
	r      Resolver
	mu     sync.Mutex
	probes map[string]*vetProbe // "." and each TLD asked about
}

type vetProbe struct {
	done    chan struct{}
	ans     Answer
	expires time.Time // set when answered
}

// NewVetter returns a Vetter for r.
func NewVetter(r Resolver) *Vetter {
	return &Vetter{r: r, probes: map[string]*vetProbe{}}
}

// Start sends the vetting questions for domain (the root's NS and its TLD's
// SOA) unless they were sent already, and returns at once. The questions
// keep ctx's values (its trace log) but not its deadline.
func (v *Vetter) Start(ctx context.Context, domain string) {
	for _, q := range vetQuestions(domain) {
		v.probe(ctx, q)
	}
}

// Verdict waits for the answers to the vetting questions of domain and
// judges them. ok is false when ctx ended first.
func (v *Vetter) Verdict(ctx context.Context, domain string) (Verdict, bool) {
	verdict := Verdict{Trust: Trusted}
	for _, q := range vetQuestions(domain) {
		p := v.probe(ctx, q)
		if !p.wait(ctx) {
			return Verdict{}, false
		}
		verdict.add(q, p.ans)
	}
	return verdict, true
}

// wait waits for the answer; false if ctx ended first (an answer already
// there wins over an ended ctx).
func (p *vetProbe) wait(ctx context.Context) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	select {
	case <-p.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// vetQuestion is a name that must exist and the type asked.
type vetQuestion struct {
	name  string
	qtype uint16
}

// vetQuestions are the root's NS and, for a TLD delegated in the public
// root, the TLD's SOA.
func vetQuestions(domain string) []vetQuestion {
	qs := []vetQuestion{{".", dns.TypeNS}}
	if tld := delegatedTLD(domain); tld != "" {
		qs = append(qs, vetQuestion{tld + ".", dns.TypeSOA})
	}
	return qs
}

// specialUseTLDs are special-use names that are not delegated in the root
// (RFC 6761 §6, RFC 7686 for onion, RFC 9476 for alt), so a resolver rightly
// denies them; "onion" is on the Public Suffix List all the same.
var specialUseTLDs = map[string]bool{"test": true, "localhost": true, "invalid": true, "example": true, "onion": true, "alt": true, "local": true}

// delegatedTLD is the top-level label of domain if it is a TLD delegated in
// the public root, else "".
func delegatedTLD(domain string) string {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	if tld == "" || specialUseTLDs[tld] {
		return ""
	}
	if suffix, icann := publicsuffix.PublicSuffix(tld); !icann || suffix != tld {
		return ""
	}
	return tld
}

// probe returns the vetting question's probe, sending it the first time
// and again once the last answer has expired.
func (v *Vetter) probe(ctx context.Context, q vetQuestion) *vetProbe {
	key := q.name + "/" + dns.TypeToString[q.qtype]
	v.mu.Lock()
	defer v.mu.Unlock()
	if p, ok := v.probes[key]; ok && (p.expires.IsZero() || time.Now().Before(p.expires)) {
		return p
	}
	p := &vetProbe{done: make(chan struct{})}
	v.probes[key] = p
	go func() {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), VetTimeout)
		defer cancel()
		ans := v.r.Lookup(pctx, q.name, q.qtype)
		keep := vetKeep
		if ans.Failed() {
			keep = vetRetry
		}
		v.mu.Lock()
		p.ans, p.expires = ans, time.Now().Add(keep)
		v.mu.Unlock()
		close(p.done)
	}()
	return p
}

// add judges one vetting answer. The root's NS must exist with records;
// a TLD must not be NXDOMAIN (a NODATA there names the TLD as existing).
func (verdict *Verdict) add(q vetQuestion, a Answer) {
	verdict.Evidence = append(verdict.Evidence, a.Describe())
	if verdict.Server == "" {
		verdict.Server = a.Server
	}
	denied := a.Status == StatusNXDomain || (q.name == "." && a.Status == StatusNoData)
	switch {
	case verdict.Trust == Lying:
	case denied:
		verdict.Trust, verdict.Server = Lying, a.Server
		verdict.Denied = fmt.Sprintf("%s %s: %s", q.name, dns.TypeToString[q.qtype], a.Status)
	case a.Failed():
		verdict.Trust = Unvetted
	}
}

// Vetted returns r with its negative answers held until the vetting of the
// resolver for domain is done, and turned into StatusUntrusted when the
// resolver lies. Positive answers pass at once. It keeps r's Servers and
// Trace methods.
func Vetted(r Resolver, v *Vetter, domain string) Resolver {
	return &vetted{r: r, v: v, domain: domain}
}

type vetted struct {
	r       Resolver
	v       *Vetter
	domain  string
	started sync.Once
}

func (g *vetted) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	g.started.Do(func() { g.v.Start(ctx, g.domain) })
	a := g.r.Lookup(ctx, name, qtype)
	if !a.Missing() {
		return a
	}
	verdict, ok := g.v.Verdict(ctx, g.domain)
	if !ok {
		return Answer{Name: a.Name, Type: qtype, Status: StatusTimeout, Err: ctx.Err(), Server: a.Server}
	}
	if verdict.Trust == Lying {
		a.Status, a.Err, a.Records = StatusUntrusted, verdict.Err(), nil
	}
	return a
}

// Servers reports the nameservers of the resolver underneath, if it says.
func (g *vetted) Servers() []string {
	if s, ok := g.r.(interface{ Servers() []string }); ok {
		return s.Servers()
	}
	return nil
}
