package serve

// The seam for `mxray preflight` (issue 12): the bulk-sender rules of
// Gmail, Yahoo and Microsoft for a sending domain, its IPs and a sample
// message. The preflight package is built elsewhere; until a
// PreflightFunc is given in Options, the form and the API answer 501 and
// never show a result nobody observed.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/dnscheck"
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
}

// PreflightEnv is the world a preflight looks at, as the server sets it
// up for one request: its guarded resolver and dialer.
type PreflightEnv struct {
	Resolver dnscheck.Resolver
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
	Version  string
}

// PreflightFunc runs a preflight and returns its report (command
// "preflight"; the provider table as a section's Detail).
type PreflightFunc func(ctx context.Context, env PreflightEnv, req PreflightRequest) (*report.Report, error)

// errNoPreflight is the answer while no PreflightFunc is wired in.
var errNoPreflight = &reqError{status: http.StatusNotImplemented, reason: "not-implemented",
	msg: "preflight is not available in this build of mxray"}

// preflightJob reads a preflight request from form fields (from, ips)
// and an optional message.
func (s *Server) preflightJob(e *worldEnv, from, ips string, message []byte) (job, *reqError) {
	if s.o.Preflight == nil {
		return job{}, errNoPreflight
	}
	req := PreflightRequest{From: strings.TrimSpace(from), Message: message}
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
	if len(req.IPs) > maxTargets {
		return job{}, badRequest(fmt.Sprintf("%d sending IPs; at most %d", len(req.IPs), maxTargets))
	}
	return job{command: "preflight", target: req.From, parts: []string{"preflight"},
		run: func(ctx context.Context, emit emitFunc) (*report.Report, error) {
			_, res, err := e.resolver(0)
			if err != nil {
				return nil, err
			}
			rep, err := s.o.Preflight(ctx, PreflightEnv{Resolver: res, Dial: e.dial, Version: e.version}, req)
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

// preflightForm reads the preflight form: from, ips and a message upload.
func (s *Server) preflightForm(w http.ResponseWriter, r *http.Request, e *worldEnv) (job, *reqError) {
	fields, file, rerr := s.readForm(r, w, "from", "message")
	if rerr != nil {
		return job{}, rerr
	}
	var msg []byte
	if file != nil {
		msg = file.text
	}
	return s.preflightJob(e, fields["from"], fields["ips"], msg)
}
