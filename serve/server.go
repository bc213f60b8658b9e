package serve

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/internal/netguard"
	"github.com/mxray/mxray/report"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// World is where checks look (the internet); nil serves the demo only.
	World *World
	// Demo, when set, is served under /demo/ ("try the demo").
	Demo *World
	// AllowPrivate allows special-use targets (--allow-private).
	AllowPrivate bool
	// AllowTargets restrict the targets (--allow-target): domains (and
	// the names under them), IP addresses, CIDR ranges.
	AllowTargets []string
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client for the rate limit (--trusted-proxy).
	TrustedProxies []netip.Prefix
	// TrustedOrigins are origins allowed to POST forms besides the page's
	// own (a reverse proxy that rewrites Host): "https://mxray.example.org".
	TrustedOrigins []string
	// RatePerMinute and Burst are each client's report rate (default 30 a
	// minute, bursts of 10); a negative rate turns the limit off.
	RatePerMinute float64
	Burst         int
	// MaxInFlight bounds the reports running at once (default 16).
	MaxInFlight int
	// Timeout is the deadline of one request (default 60 s).
	Timeout time.Duration
	// MaxUpload bounds a pasted text or uploaded message (default 10 MB).
	MaxUpload int64
	Version   string
	// Preflight runs `mxray preflight` for the preflight form and API;
	// nil: RunPreflight. Tests replace it.
	Preflight PreflightFunc
	// WritePrometheus renders the mxray_* metrics of /probe's report; nil:
	// report.WritePrometheus, the renderer of --format prometheus. Tests
	// replace it.
	WritePrometheus func(w io.Writer, reps ...*report.Report) error
	// ErrorLog receives the HTTP server's own errors; nil: discarded.
	ErrorLog *log.Logger
	// Now is the clock of reports (tests); nil: time.Now.
	Now func() time.Time
}

// Server is mxray's web front end.
type Server struct {
	o       Options
	policy  policy
	rates   *clientRates
	prepaid *prepaid
	slots   slots
	locks   *check.IPLocks
	metrics *metrics
	pages   *template.Template
	csrf    *http.CrossOriginProtection
	main    *worldEnv // nil without a World
	demo    *worldEnv // nil without a Demo
	handler http.Handler
}

// New checks the options and builds the server.
func New(o Options) (*Server, error) {
	if o.World == nil && o.Demo == nil {
		return nil, errors.New("serve: no world to check")
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = 30
	}
	if o.Burst == 0 {
		o.Burst = 10
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 16
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = MaxUpload
	}
	if o.Preflight == nil {
		o.Preflight = RunPreflight
	}
	if o.WritePrometheus == nil {
		o.WritePrometheus = report.WritePrometheus
	}
	names, prefixes, err := parseAllowTargets(o.AllowTargets)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, policy: policy{allowPrivate: o.AllowPrivate, names: names, prefixes: prefixes},
		rates: newClientRates(max(o.RatePerMinute, 0), o.Burst), prepaid: newPrepaid(), slots: make(slots, o.MaxInFlight),
		locks: &check.IPLocks{}, metrics: newMetrics(), csrf: http.NewCrossOriginProtection()}
	for _, origin := range o.TrustedOrigins {
		if err := s.csrf.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("--trusted-origin %q: %v", origin, err)
		}
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.rejected("cross-origin")
		s.fail(w, r, pageOutput, &reqError{status: http.StatusForbidden, reason: "cross-origin",
			msg: "cross-origin form submission refused: submit the form from this server's own page"})
	}))
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	if o.World != nil {
		s.main = s.env(o.World, "")
	}
	if o.Demo != nil {
		s.demo = s.env(o.Demo, "/demo")
	}
	s.handler = s.routes()
	return s, nil
}

// env binds a world to the server's policy and locks.
func (s *Server) env(w *World, base string) *worldEnv {
	p := s.policy
	p.allowPrivate = p.allowPrivate || w.Sealed
	dial := w.Dial
	if dial == nil {
		dial = netguard.Dial
	}
	return &worldEnv{w: w, base: base, p: p, probePrivate: s.o.AllowPrivate, dial: guardedDial(dial, p, s.locks), version: s.o.Version, now: s.o.Now}
}

// Handler is the whole site, with its security headers and deadlines.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on l until ctx ends (SIGTERM), then shuts down: it stops
// accepting, lets reports in flight finish for up to grace, then cuts
// them (their deadline ends; each page still gets its summary) and
// closes what is left.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	base, cut := context.WithCancel(context.Background())
	defer cut()
	errLog := s.o.ErrorLog
	if errLog == nil {
		errLog = log.New(io.Discard, "", 0)
	}
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: errLog, BaseContext: func(net.Listener) context.Context { return base }}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(graceCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		cut() // the reports still running end now, with what they have
		lastCtx, cancelLast := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelLast()
		if err = hs.Shutdown(lastCtx); err != nil {
			err = hs.Close()
		}
	}
	<-served
	return err
}
