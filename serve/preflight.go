package serve

// `mxray preflight` on the web: the bulk-sender rules of Gmail, Yahoo and
// Microsoft for a sending domain, its IPs and a sample message, run by the
// preflight package with the world's guarded resolver and dialer.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/preflight"
	"github.com/mxray/mxray/report"
)

// PreflightRequest is what the preflight form and API take.
type PreflightRequest struct {
	// From is the campaign's From address.
	From string
	// IPs are the addresses the campaign is sent from.
	IPs []netip.Addr
	// Message is a sample message (an uploaded .eml), or nil.
	Message []byte
	// Selectors are DKIM selectors at the From domain (--selector).
	Selectors []string
}

// PreflightEnv is the world a preflight looks at, as the server sets it
// up for one request: its guarded resolver and dialer, and the world's
// check template (blocklist selection, SMTP TLS roots and EHLO name, whether
// special-use addresses may be dialed).
type PreflightEnv struct {
	Resolver dnscheck.Resolver
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
	Version  string
	Check    check.Config
}

// PreflightFunc runs a preflight and returns its report (command
// "preflight", with the provider table in Requirements).
type PreflightFunc func(ctx context.Context, env PreflightEnv, req PreflightRequest) (*report.Report, error)

// RunPreflight is the PreflightFunc of the product: preflight.Run with the
// request's campaign. The bulk rules apply (no volume is asked for), and the
// recipients' SIZE sessions are not run: the form takes no recipient list.
func RunPreflight(ctx context.Context, env PreflightEnv, req PreflightRequest) (*report.Report, error) {
	cfg := preflight.Config{Resolver: env.Resolver, Version: env.Version, Now: env.Check.Now,
		DNSBL: env.Check.DNSBL.Selection, DNSBLConcurrency: env.Check.DNSBL.Concurrency,
		SMTP: preflight.SMTPOptions{Skip: true, Dial: env.Dial, HELO: env.Check.SMTP.HELO,
			AllowSpecialUse: env.Check.SMTP.AllowSpecialUse, TLS: env.Check.SMTP.TLS}}
	opt := preflight.Options{From: req.From, IPs: req.IPs, Message: req.Message, Selectors: req.Selectors, Volume: -1}
	if req.Message != nil {
		opt.MessageName = "uploaded message"
	}
	out, err := preflight.Run(ctx, cfg, opt)
	if err != nil {
		return nil, err
	}
	return out.Report, nil
}

// maxSelectors bounds the DKIM selectors of one preflight.
const maxSelectors = 10

// preflightJob reads a preflight request from form fields (from, ips,
// selectors) and an optional message.
func (s *Server) preflightJob(e *worldEnv, fields map[string]string, message []byte) (job, *reqError) {
	req := PreflightRequest{From: strings.TrimSpace(fields["from"]), Message: message}
	ips := fields["ips"]
	at := strings.LastIndexByte(req.From, '@')
	if at <= 0 {
		return job{}, badRequest(fmt.Sprintf("from %q is not an address (want local@domain)", req.From))
	}
	domain, err := dnscheck.NormalizeDomain(req.From[at+1:])
	if err != nil {
		return job{}, badRequest(fmt.Sprintf("from %q: %v", req.From, err))
	}
	if err := e.p.checkName(domain); err != nil {
		return job{}, refusedError(err)
	}
	for _, f := range splitTargets(ips) {
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return job{}, badRequest(fmt.Sprintf("%q is not an IP address", f))
		}
		if err := e.p.checkAddr(a); err != nil {
			return job{}, refusedError(err)
		}
		req.IPs = append(req.IPs, a.Unmap())
	}
	if len(req.IPs) == 0 {
		return job{}, badRequest("give at least one sending IP address")
	}
	if len(req.IPs) > maxTargets {
		return job{}, badRequest(fmt.Sprintf("%d sending IPs; at most %d", len(req.IPs), maxTargets))
	}
	for _, sel := range splitTargets(fields["selectors"]) {
		if err := dkim.ValidSelector(sel); err != nil {
			return job{}, badRequest(fmt.Sprintf("DKIM selector %q: %v", sel, err))
		}
		req.Selectors = append(req.Selectors, strings.ToLower(sel))
	}
	if len(req.Selectors) > maxSelectors {
		return job{}, badRequest(fmt.Sprintf("%d DKIM selectors; at most %d", len(req.Selectors), maxSelectors))
	}
	return job{command: "preflight", target: req.From, parts: []string{"preflight"},
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			_, res, err := e.resolver(0)
			if err != nil {
				return nil, err
			}
			rep, err := s.o.Preflight(ctx, PreflightEnv{Resolver: res, Dial: e.dial, Version: e.version, Check: e.checkConfig()}, req)
			if err == nil {
				emit("preflight", rep.Sections)
			}
			return rep, err
		}}, nil
}

func (s *Server) apiPreflight(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := s.preflightForm(w, r, e)
	s.serveJob(w, r, e, apiOutput, j, jerr)
}

// preflightForm reads the preflight form: from, ips, selectors and a
// message upload.
func (s *Server) preflightForm(w http.ResponseWriter, r *http.Request, e *worldEnv) (job, *reqError) {
	fields, file, rerr := s.readForm(r, w, "from", "message")
	if rerr != nil {
		return job{}, rerr
	}
	var msg []byte
	if file != nil {
		msg = file.text
	}
	return s.preflightJob(e, fields, msg)
}
