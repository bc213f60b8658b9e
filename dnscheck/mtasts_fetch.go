package dnscheck

// HTTPS fetches for MTA-STS policies (RFC 8461 §3.3) and BIMI assets.
//
// RFC 8461 §3.3 is strict about how a policy is fetched, and mxray fetches
// the way a conforming sender does, so that what it reports is what senders
// see: HTTPS only, the server certificate valid for the host name
// (mta-sts.DOMAIN) under the system's roots, no redirects ("senders MUST NOT
// follow redirects"), only a 200 answer counts, a size limit (64 KiB
// suggested) and a deadline.
//
// The production client resolves host names through mxray's own Resolver
// (so --resolver applies and a SERVFAIL for mta-sts.DOMAIN is reported as
// unknown, not as "host not found"), then dials. Tests use the same client
// with a Dial that routes to an httptest server and a test root CA.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/mxray/mxray/internal/netguard"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// HTTPFetchTimeout bounds one HTTPS fetch when the context allows longer.
const HTTPFetchTimeout = 20 * time.Second

// FetchKind classifies the outcome of a fetch.
type FetchKind string

const (
	FetchOK          FetchKind = "ok"
	FetchDNS         FetchKind = "dns"         // the host name does not exist or has no address (observed)
	FetchDNSUnknown  FetchKind = "dns-unknown" // the host's address lookup failed (SERVFAIL, timeout)
	FetchConnect     FetchKind = "connect"     // connection refused / reset by the server
	FetchNetwork     FetchKind = "network"     // unreachable network from here: cannot tell
	FetchTLS         FetchKind = "tls"         // handshake failed
	FetchCertExpired FetchKind = "cert-expired"
	FetchCertName    FetchKind = "cert-name" // certificate not valid for the host name
	FetchCertTrust   FetchKind = "cert-untrusted"
	FetchRedirect    FetchKind = "redirect"
	FetchStatus      FetchKind = "status" // an HTTP status other than 200
	FetchTooLarge    FetchKind = "too-large"
	FetchTimeout     FetchKind = "timeout"
	FetchBadURL      FetchKind = "bad-url"
	// FetchPrivate: the host resolves only to special-use addresses
	// (loopback, RFC 1918, ...): no sender on the internet can reach it, and
	// mxray does not connect there (a published URL must not make it probe
	// the local network).
	FetchPrivate FetchKind = "private-address"
)

// HTTPFetch is the record of one HTTPS GET.
type HTTPFetch struct {
	URL         string        `json:"url"`
	Kind        FetchKind     `json:"kind"`
	StatusCode  int           `json:"status_code,omitempty"`
	ContentType string        `json:"content_type,omitempty"`
	Location    string        `json:"location,omitempty"` // redirect target, not followed
	Size        int           `json:"size"`
	Limit       int           `json:"limit"`
	Duration    time.Duration `json:"duration_ns"`
	Error       string        `json:"error,omitempty"`
	// Peer is the server certificate's subject and validity, when a TLS
	// connection was made.
	Peer string `json:"peer,omitempty"`
	Body []byte `json:"-"`
}

// OK reports whether the fetch gave a 200 answer within the size limit over verified TLS.
func (f HTTPFetch) OK() bool { return f.Kind == FetchOK }

// ContentTypeIs reports whether the media type (parameters ignored) is mt.
func (f HTTPFetch) ContentTypeIs(mt string) bool {
	t, _, err := mime.ParseMediaType(f.ContentType)
	return err == nil && strings.EqualFold(t, mt)
}

// Problem is a one-line description of what went wrong.
func (f HTTPFetch) Problem() string {
	switch f.Kind {
	case FetchOK:
		return "ok"
	case FetchRedirect:
		return fmt.Sprintf("HTTP %d redirect to %s (redirects are not followed)", f.StatusCode, f.Location)
	case FetchStatus:
		return fmt.Sprintf("HTTP status %d", f.StatusCode)
	case FetchTooLarge:
		return fmt.Sprintf("the body exceeds the %d-octet limit", f.Limit)
	}
	return string(f.Kind) + ": " + f.Error
}

// Evidence lists what was observed.
func (f HTTPFetch) Evidence() []string {
	ev := []string{"GET " + f.URL}
	switch {
	case f.StatusCode != 0:
		s := fmt.Sprintf("HTTP %d, Content-Type %q, %d octets in %s", f.StatusCode, f.ContentType, f.Size, f.Duration.Round(time.Millisecond))
		if f.Location != "" {
			s += ", Location: " + f.Location
		}
		ev = append(ev, s)
	default:
		ev = append(ev, fmt.Sprintf("%s after %s: %s", f.Kind, f.Duration.Round(time.Millisecond), f.Error))
	}
	if f.Peer != "" {
		ev = append(ev, "certificate: "+f.Peer)
	}
	if f.Kind == FetchTooLarge {
		ev = append(ev, fmt.Sprintf("read stopped after %d octets (limit %d)", f.Size, f.Limit))
	}
	return ev
}

// FixHint is the fix for a failed fetch from host.
func (f HTTPFetch) FixHint(host string) string {
	switch f.Kind {
	case FetchDNS:
		return "publish an A/AAAA record (or a CNAME) for " + host + " pointing at the HTTPS server that serves the file"
	case FetchDNSUnknown:
		return "retry; if it persists, check the nameservers answering for " + host
	case FetchConnect, FetchNetwork, FetchTimeout:
		return "make sure " + host + " answers HTTPS on port 443 from the internet"
	case FetchCertExpired:
		return "renew the certificate of " + host + " (and automate the renewal)"
	case FetchCertName:
		return "serve a certificate whose subjectAltName includes " + host
	case FetchCertTrust, FetchTLS:
		return "serve a certificate for " + host + " issued by a publicly trusted CA, with the full chain"
	case FetchRedirect:
		return "serve the file directly at the URL with status 200; senders do not follow redirects (RFC 8461 §3.3)"
	case FetchStatus:
		return "serve the file at exactly this URL with status 200"
	case FetchTooLarge:
		return "keep the file small (an MTA-STS policy is a few lines)"
	case FetchPrivate:
		return "publish the public address of " + host + " in the public zone"
	}
	return "check the HTTPS server of " + host
}

// HTTPOptions configures NewHTTPClient.
type HTTPOptions struct {
	// Resolver resolves host names (nil: the system's resolver via net.Dialer).
	Resolver Resolver
	// Dial opens the TCP connection to an address "ip:port" (nil: net.Dialer).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// RootCAs replaces the system's roots (tests).
	RootCAs *x509.CertPool
	// AllowSpecialUse lets the client connect to loopback, private and other
	// special-use addresses, which it otherwise refuses (FetchPrivate). Tests
	// set it: their servers listen on loopback.
	AllowSpecialUse bool
}

// NewHTTPClient returns the client used for policy and logo fetches:
// certificate verification on, TLS 1.2 or later, no redirects followed, no
// proxy, no cookies; the deadline comes from the request's context.
func NewHTTPClient(opt HTTPOptions) *http.Client {
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
	Lookup HostAddrs
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

func dialResolved(ctx context.Context, r Resolver, dial func(context.Context, string, string) (net.Conn, error), allowSpecial bool, network, address string) (net.Conn, error) {
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
		h := LookupHost(ctx, r, host)
		if len(h.Addrs) == 0 {
			return nil, &HostLookupError{Host: host, Lookup: h}
		}
		addrs = h.Addrs
	}
	var usable []netip.Addr
	var special []string
	for _, a := range addrs {
		if s := SpecialUse(a); s != "" && !allowSpecial {
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

// FetchHTTPS GETs rawURL with client, reading at most limit octets of the
// body. Redirects are never followed, even if client would follow them.
// A nil client means NewHTTPClient(HTTPOptions{}).
func FetchHTTPS(ctx context.Context, client *http.Client, rawURL string, limit int) (f HTTPFetch) {
	f = HTTPFetch{URL: rawURL, Limit: limit}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		f.Kind, f.Error = FetchBadURL, "not an https:// URL"
		if err != nil {
			f.Error = err.Error()
		}
		return f
	}
	if client == nil {
		client = NewHTTPClient(HTTPOptions{})
	}
	c := *client // a copy, so that the redirect rule cannot be lost
	c.CheckRedirect = refuseRedirect
	// The earlier of the caller's deadline and HTTPFetchTimeout.
	ctx, cancel := context.WithTimeout(ctx, HTTPFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		f.Kind, f.Error = FetchBadURL, err.Error()
		return f
	}
	req.Header.Set("User-Agent", "mxray (mail server health check)")
	start := time.Now()
	resp, err := c.Do(req)
	defer func() { f.Duration = time.Since(start) }()
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
		f.Kind, f.Location = FetchRedirect, resp.Header.Get("Location")
		return f
	case resp.StatusCode != http.StatusOK:
		f.Kind = FetchStatus
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
		f.Kind, f.Size = FetchTooLarge, limit+1
		return f
	}
	f.Kind, f.Body = FetchOK, body
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

func classifyFetchError(ctx context.Context, err error) FetchKind {
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
		return FetchPrivate
	case errors.As(err, &hle):
		if hle.Unknown() {
			return FetchDNSUnknown
		}
		return FetchDNS
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return FetchDNS
		}
		return FetchDNSUnknown
	case errors.As(err, &certInvalid):
		if certInvalid.Reason == x509.Expired {
			return FetchCertExpired
		}
		return FetchCertTrust
	case errors.As(err, &hostErr):
		return FetchCertName
	case errors.As(err, &unknownCA):
		return FetchCertTrust
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		return FetchTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "reset") {
			return FetchConnect
		}
		return FetchNetwork
	case strings.Contains(err.Error(), "tls:"):
		return FetchTLS
	}
	return FetchConnect
}
