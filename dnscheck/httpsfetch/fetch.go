package httpsfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/report"
)

// DefaultTimeout bounds one HTTPS fetch when the context allows longer.
const DefaultTimeout = 20 * time.Second

// Kind classifies the outcome of a fetch.
type Kind string

const (
	OK            Kind = "ok"
	DNS           Kind = "dns"         // the host name does not exist or has no address (observed)
	DNSUnknown    Kind = "dns-unknown" // the host's address lookup failed (SERVFAIL, timeout)
	Connect       Kind = "connect"     // connection refused / reset by the server
	Network       Kind = "network"     // unreachable network from here: cannot tell
	TLS           Kind = "tls"         // handshake failed
	CertExpired   Kind = "cert-expired"
	CertName      Kind = "cert-name" // certificate not valid for the host name
	CertUntrusted Kind = "cert-untrusted"
	Redirect      Kind = "redirect"
	Status        Kind = "status" // an HTTP status other than 200
	TooLarge      Kind = "too-large"
	Timeout       Kind = "timeout"
	BadURL        Kind = "bad-url"
	// Private: the host resolves only to special-use addresses
	// (loopback, RFC 1918, ...): no sender on the internet can reach it, and
	// mxray does not connect there (a published URL must not make it probe
	// the local network).
	Private Kind = "private-address"
)

// Result is the record of one HTTPS GET.
type Result struct {
	URL         string          `json:"url"`
	Kind        Kind            `json:"kind"`
	StatusCode  int             `json:"status_code,omitempty"`
	ContentType string          `json:"content_type,omitempty"`
	Location    string          `json:"location,omitempty"` // redirect target, not followed
	Size        int             `json:"size"`
	Limit       int             `json:"limit"`
	Duration    report.Duration `json:"duration_ms"`
	Error       string          `json:"error,omitempty"`
	// Peer is the server certificate's subject and validity, when a TLS
	// connection was made.
	Peer string `json:"peer,omitempty"`
	Body []byte `json:"-"`
}

// OK reports whether the fetch gave a 200 answer within the size limit over verified TLS.
func (f Result) OK() bool { return f.Kind == OK }

// ContentTypeIs reports whether the media type (parameters ignored) is mt.
func (f Result) ContentTypeIs(mt string) bool {
	t, _, err := mime.ParseMediaType(f.ContentType)
	return err == nil && strings.EqualFold(t, mt)
}

// Problem is a one-line description of what went wrong.
func (f Result) Problem() string {
	switch f.Kind {
	case OK:
		return "ok"
	case Redirect:
		return fmt.Sprintf("HTTP %d redirect to %s (redirects are not followed)", f.StatusCode, f.Location)
	case Status:
		return fmt.Sprintf("HTTP status %d", f.StatusCode)
	case TooLarge:
		return fmt.Sprintf("the body exceeds the %d-octet limit", f.Limit)
	}
	return string(f.Kind) + ": " + f.Error
}

// Evidence lists what was observed.
func (f Result) Evidence() []string {
	ev := []string{"GET " + f.URL}
	switch {
	case f.StatusCode != 0:
		s := fmt.Sprintf("HTTP %d, Content-Type %q, %d octets in %s", f.StatusCode, f.ContentType, f.Size, f.Duration.Std().Round(time.Millisecond))
		if f.Location != "" {
			s += ", Location: " + f.Location
		}
		ev = append(ev, s)
	default:
		ev = append(ev, fmt.Sprintf("%s after %s: %s", f.Kind, f.Duration.Std().Round(time.Millisecond), f.Error))
	}
	if f.Peer != "" {
		ev = append(ev, "certificate: "+f.Peer)
	}
	if f.Kind == TooLarge {
		ev = append(ev, fmt.Sprintf("read stopped after %d octets (limit %d)", f.Size, f.Limit))
	}
	return ev
}

// FixHint is the fix for a failed fetch from host.
func (f Result) FixHint(host string) string {
	switch f.Kind {
	case DNS:
		return "publish an A/AAAA record (or a CNAME) for " + host + " pointing at the HTTPS server that serves the file"
	case DNSUnknown:
		return "retry; if it persists, check the nameservers answering for " + host
	case Connect, Network, Timeout:
		return "make sure " + host + " answers HTTPS on port 443 from the internet"
	case CertExpired:
		return "renew the certificate of " + host + " (and automate the renewal)"
	case CertName:
		return "serve a certificate whose subjectAltName includes " + host
	case CertUntrusted, TLS:
		return "serve a certificate for " + host + " issued by a publicly trusted CA, with the full chain"
	case Redirect:
		return "serve the file directly at the URL with status 200; senders do not follow redirects (RFC 8461 §3.3)"
	case Status:
		return "serve the file at exactly this URL with status 200"
	case TooLarge:
		return "keep the file small (an MTA-STS policy is a few lines)"
	case Private:
		return "publish the public address of " + host + " in the public zone"
	}
	return "check the HTTPS server of " + host
}

// Options configures NewClient.
type Options struct {
	// Resolver resolves host names (nil: the system's resolver via net.Dialer).
	Resolver dnscheck.Resolver
	// Dial opens the TCP connection to an address "ip:port" (nil: net.Dialer).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// RootCAs replaces the system's roots (tests).
	RootCAs *x509.CertPool
	// AllowSpecialUse lets the client connect to loopback, private and other
	// special-use addresses, which it otherwise refuses (Private). Tests
	// set it: their servers listen on loopback.
	AllowSpecialUse bool
}

// NewClient returns the client used for policy and logo fetches:
// certificate verification on, TLS 1.2 or later, no redirects followed, no
// proxy, no cookies; the deadline comes from the request's context.
func NewClient(opt Options) *http.Client {
	dial := opt.Dial
	if dial == nil {
		dial = netguard.Dial
	}
	tr := &http.Transport{
		Proxy: nil, // a proxy would hide what senders see
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			return dialResolved(ctx, opt.Resolver, dial, opt.AllowSpecialUse, network, address)
		},
		TLSClientConfig:       &tls.Config{RootCAs: opt.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, CheckRedirect: refuseRedirect}
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// HostLookupError is returned by the dialer when a host's addresses cannot be found.
type HostLookupError struct {
	Host   string
	Lookup dnscheck.HostAddrs
}

func (e *HostLookupError) Error() string {
	return fmt.Sprintf("looking up %s: %s; %s", e.Host, e.Lookup.A.Describe(), e.Lookup.AAAA.Describe())
}

// Unknown reports whether the lookup failed rather than found nothing.
func (e *HostLookupError) Unknown() bool { return e.Lookup.Failed() }

// PrivateAddressError is returned by the dialer when every address of a
// host is a special-use address (see SpecialUse).
type PrivateAddressError struct {
	Host  string
	Addrs []string // "127.0.0.1 (loopback)"
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("%s resolves only to addresses not reachable from the internet: %s", e.Host, strings.Join(e.Addrs, ", "))
}

func dialResolved(ctx context.Context, r dnscheck.Resolver, dial func(context.Context, string, string) (net.Conn, error), allowSpecial bool, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip.Unmap()}
	} else if r == nil {
		if allowSpecial { // tests without a DNS world: the dialer routes by name
			return dial(ctx, network, address)
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			addrs = append(addrs, ip.Unmap())
		}
	} else {
		h := dnscheck.LookupHost(ctx, r, host)
		if len(h.Addrs) == 0 {
			return nil, &HostLookupError{Host: host, Lookup: h}
		}
		addrs = h.Addrs
	}
	var usable []netip.Addr
	var special []string
	for _, a := range addrs {
		if s := dnscheck.SpecialUse(a); s != "" && !allowSpecial {
			special = append(special, a.String()+" ("+s+")")
			continue
		}
		usable = append(usable, a)
	}
	if len(usable) == 0 {
		return nil, &PrivateAddressError{Host: host, Addrs: special}
	}
	var errs []error
	for _, a := range usable {
		c, err := dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// Get GETs rawURL with client, reading at most limit octets of the
// body. Redirects are never followed, even if client would follow them.
// A nil client means NewClient(Options{}).
func Get(ctx context.Context, client *http.Client, rawURL string, limit int) (f Result) {
	f = Result{URL: rawURL, Limit: limit}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		f.Kind, f.Error = BadURL, "not an https:// URL"
		if err != nil {
			f.Error = err.Error()
		}
		return f
	}
	if client == nil {
		client = NewClient(Options{})
	}
	c := *client // a copy, so that the redirect rule cannot be lost
	c.CheckRedirect = refuseRedirect
	// The earlier of the caller's deadline and DefaultTimeout.
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		f.Kind, f.Error = BadURL, err.Error()
		return f
	}
	req.Header.Set("User-Agent", "mxray (mail server health check)")
	start := time.Now()
	resp, err := c.Do(req)
	defer func() { f.Duration = report.Duration(time.Since(start)) }()
	if err != nil {
		f.Kind, f.Error = classifyFetchError(ctx, err), fetchErrorText(err)
		return f
	}
	defer resp.Body.Close()
	f.StatusCode = resp.StatusCode
	f.ContentType = resp.Header.Get("Content-Type")
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		leaf := resp.TLS.PeerCertificates[0]
		f.Peer = fmt.Sprintf("%s, DNS names %v, valid %s to %s", leaf.Subject.CommonName, leaf.DNSNames,
			leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		f.Kind, f.Location = Redirect, resp.Header.Get("Location")
		return f
	case resp.StatusCode != http.StatusOK:
		f.Kind = Status
		return f
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	f.Size = len(body)
	if err == nil && ctx.Err() != nil {
		// The deadline passed while the answer came in: an answer completed
		// only as the connection was being torn down is not trusted.
		err = ctx.Err()
	}
	if err != nil {
		f.Kind, f.Error = classifyFetchError(ctx, err), err.Error()
		return f
	}
	if len(body) > limit {
		f.Kind, f.Size = TooLarge, limit+1
		return f
	}
	f.Kind, f.Body = OK, body
	return f
}

// fetchErrorText drops net/http's "Get \"URL\": " wrapper; the URL is
// already in the evidence.
func fetchErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func classifyFetchError(ctx context.Context, err error) Kind {
	var hle *HostLookupError
	var pae *PrivateAddressError
	var dnsErr *net.DNSError
	var certInvalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var unknownCA x509.UnknownAuthorityError
	var ne net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &pae):
		return Private
	case errors.As(err, &hle):
		if hle.Unknown() {
			return DNSUnknown
		}
		return DNS
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return DNS
		}
		return DNSUnknown
	case errors.As(err, &certInvalid):
		if certInvalid.Reason == x509.Expired {
			return CertExpired
		}
		return CertUntrusted
	case errors.As(err, &hostErr):
		return CertName
	case errors.As(err, &unknownCA):
		return CertUntrusted
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		return Timeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "reset") {
			return Connect
		}
		return Network
	case strings.Contains(err.Error(), "tls:"):
		return TLS
	}
	return Connect
}
