package serve

import (
	"context"
	"crypto/x509"
	"net"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
)

// World is where the server's checks look: the resolver to ask, how to
// connect, and the options every check starts from. The product's world
// is the internet; mxray demo's is an embedded one on loopback.
type World struct {
	// Name is shown on the pages ("demo world"); empty for the internet.
	Name string
	// Resolvers are the DNS servers asked ("ip:port"). Every report gets
	// its own client, so caches never outlive a request.
	Resolvers       []string
	ResolverOptions dnscheck.Options
	// Dial connects to SMTP and HTTPS servers; nil: netguard.Dial. The
	// server wraps it with its address policy and the per-IP SMTP lock.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// RootCAs verify TLS certificates (SMTP and HTTPS); nil: the system's.
	RootCAs *x509.CertPool
	// Check is the template of every report: SMTP (HELO, timeouts),
	// blocklist selection, DKIM selectors. Resolver, Dial, HTTPClient,
	// Only, Skip and the sending source are set per request.
	Check check.Config
	// Sealed says that Resolvers and Dial reach nothing but the world's own
	// servers (mxray demo), so special-use names and addresses in it cannot
	// lead into the network the server runs in: they are allowed.
	Sealed bool
	// Domains are example domains the home page of this world offers.
	Domains []ExampleDomain
}

// ExampleDomain is a domain a world invites its visitors to check.
type ExampleDomain struct {
	Name, Description string
}
