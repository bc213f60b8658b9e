// Package demoworld is the world of `mxray demo`: one healthy and one
// broken mail domain on this machine — the in-process DNS server
// (dnscheck/dnstest) serving world.zone, go-smtp fakes as their mail
// servers (probe/smtptest), an HTTPS server for their MTA-STS policies,
// and a blocklist — so that a newcomer without internet sees every kind
// of finding. Everything listens on 127.0.0.1; the world's dialer routes
// the public-looking addresses of the zone to those servers and refuses
// any other address, so a check in this world sends nothing anywhere else.
package demoworld

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dane"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/serve"
)

//go:embed world.zone
var zone string

// Healthy and Broken are the world's two domains.
const (
	Healthy = "healthy.example"
	Broken  = "broken.example"
)

// World is a running demo world.
type World struct {
	// Serve is the world as mxray serve checks it.
	Serve *serve.World
	// DNS is the world's DNS server (tests inject faults into it).
	DNS *dnstest.Server
	// Recorders are the command logs of the fake mail servers.
	Recorders []*smtptest.Recorder

	closers []func()
}

// Start builds the world and starts its servers on 127.0.0.1.
func Start() (*World, error) {
	w := &World{}
	if err := w.start(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops every server of the world.
func (w *World) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	w.closers = nil
}

func (w *World) start() error {
	pki, err := smtptest.BuildPKI()
	if err != nil {
		return err
	}
	if w.DNS, err = dnstest.New(zone); err != nil {
		return fmt.Errorf("demo DNS: %w", err)
	}
	w.closers = append(w.closers, w.DNS.Close)
	w.DNS.Secure(Healthy + ".") // DNSSEC-signed, as its DANE records need
	// broken.example's BIMI record lookup fails: the check says "unknown".
	w.DNS.SetFault("default._bimi."+Broken+".", 0, dnstest.Fault{Rcode: dns.RcodeServerFailure})

	routes := map[string]string{}
	if err := w.mailServers(pki, routes); err != nil {
		return err
	}
	httpsAddr, err := w.policyServer(pki)
	if err != nil {
		return err
	}
	routes["81.2.69.170:443"], routes["81.2.69.171:443"] = httpsAddr, httpsAddr
	w.Serve = &serve.World{
		Name:            "demo world",
		Resolvers:       []string{w.DNS.Addr},
		ResolverOptions: dnscheck.Options{AttemptTimeout: 2 * time.Second},
		Dial:            router(routes),
		RootCAs:         pki.Pool(),
		Sealed:          true,
		Check:           checkTemplate(),
		Domains: []serve.ExampleDomain{
			{Name: Healthy, Description: "everything in order: two MX hosts with STARTTLS and DANE, SPF, DMARC p=reject, DKIM, MTA-STS, TLS-RPT"},
			{Name: Broken, Description: "what goes wrong: SPF over the lookup limit, DMARC p=none, a weak DKIM key, MX hosts without address or with a private one, no PTR, an open relay with an expired certificate, a blocklist listing, a broken MTA-STS policy"},
		},
	}
	return nil
}

// mailServers starts the fakes and fills the routes to them.
func (w *World) mailServers(pki *smtptest.PKI, routes map[string]string) error {
	type fake struct {
		addr, name string
		opt        smtptest.Options
		cert       smtptest.CertOptions
		tlsa       bool
	}
	fakes := []fake{
		{addr: "81.2.69.160:25", name: "mx1." + Healthy, tlsa: true,
			opt: smtptest.Options{LocalDomains: []string{Healthy}, Users: []string{"alice", "bob"}, MaxMessageBytes: 50 << 20}},
		{addr: "81.2.69.161:25", name: "mx2." + Healthy, tlsa: true,
			opt: smtptest.Options{LocalDomains: []string{Healthy}, Users: []string{"alice", "bob"}, MaxMessageBytes: 50 << 20}},
		{addr: "81.2.69.165:465", name: "mail." + Healthy,
			opt: smtptest.Options{LocalDomains: []string{Healthy}, Implicit: true, AuthMechs: []string{"PLAIN"}}},
		// A slow, open relay that accepts every recipient, greets with
		// another name and presents an expired certificate.
		{addr: "81.2.69.180:25", name: "localhost.localdomain",
			opt:  smtptest.Options{LocalDomains: []string{Broken}, CatchAll: true, OpenRelay: true, ReplyDelay: 250 * time.Millisecond},
			cert: smtptest.CertOptions{NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(0, -1, 0)}},
	}
	for _, f := range fakes {
		if len(f.cert.DNSNames) == 0 {
			f.cert.DNSNames = []string{f.name}
		}
		cert, err := pki.Issue(f.cert)
		if err != nil {
			return err
		}
		f.opt.Domain, f.opt.TLS = f.name, smtptest.ServerConfig(cert)
		s, err := smtptest.New(f.opt)
		if err != nil {
			return fmt.Errorf("demo mail server %s: %w", f.name, err)
		}
		w.closers = append(w.closers, s.Close)
		w.Recorders = append(w.Recorders, s.Rec)
		routes[f.addr] = s.Addr
		if f.tlsa {
			if err := w.DNS.AddRR(dane.TLSARecordFor(f.name, 25, cert.Leaf)); err != nil {
				return err
			}
		}
	}
	return nil
}

// policyServer serves the MTA-STS policies over HTTPS: healthy.example's
// in enforce mode; broken.example's host presents a certificate for
// another name, so its policy cannot be fetched.
func (w *World) policyServer(pki *smtptest.PKI) (string, error) {
	good, err := pki.Issue(smtptest.CertOptions{DNSNames: []string{"mta-sts." + Healthy}})
	if err != nil {
		return "", err
	}
	wrong, err := pki.Issue(smtptest.CertOptions{DNSNames: []string{"www.mailer.example"}})
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET mta-sts."+Healthy+"/.well-known/mta-sts.txt", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(rw, "version: STSv1\r\nmode: enforce\r\nmx: mx1."+Healthy+"\r\nmx: mx2."+Healthy+"\r\nmax_age: 604800\r\n")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if h.ServerName == "mta-sts."+Healthy {
				return &good, nil
			}
			return &wrong, nil
		}}}
	go func() { _ = hs.ServeTLS(l, "", "") }()
	w.closers = append(w.closers, func() { _ = hs.Close() })
	return l.Addr().String(), nil
}

// router dials the world's servers by the addresses the zone gives them,
// and nothing else.
func router(routes map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := routes[addr]
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("the demo world has no server at " + addr)}
		}
		return d.DialContext(ctx, network, to)
	}
}

// checkTemplate is how checks run in the demo: its blocklist, its DKIM
// selector, a HELO name of the demo, short SMTP timeouts.
func checkTemplate() check.Config {
	return check.Config{
		SMTP: check.SMTPOptions{HELO: "probe.mxray.example", ConnectTimeout: 3 * time.Second,
			GreetingTimeout: 5 * time.Second, CommandTimeout: 5 * time.Second, SessionTimeout: 30 * time.Second},
		DNSBL: check.DNSBLOptions{Selection: dnsbl.Selection{Replace: true, Lists: []string{"bl.mxray.example:ipv4"}}},
		DKIM:  check.DKIMOptions{Selectors: []string{"s1"}},
	}
}
