package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/preflight"
	"github.com/mxray/mxray/preflight/msgcheck"
)

// output is the form of an answer.
type output int

const (
	pageOutput  output = iota // HTML
	apiOutput                 // the JSON document of --format json
	probeOutput               // Prometheus text exposition
)

// reqError is a request the server does not run, and why.
type reqError struct {
	status     int
	msg        string
	retryAfter time.Duration
	reason     string // label of mxray_serve_rejected_requests_total
}

func (e *reqError) Error() string { return e.msg }

func badRequest(msg string) *reqError {
	return &reqError{status: http.StatusBadRequest, msg: msg, reason: "bad-request"}
}

// refusedError is a target the policy refuses: 403 with the reason.
func refusedError(err error) *reqError {
	msg := strings.TrimPrefix(err.Error(), ErrRefused.Error()+": ")
	return &reqError{status: http.StatusForbidden, msg: msg, reason: "forbidden-target"}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/{file}", s.instrument("static", http.HandlerFunc(serveStatic)))
	mux.Handle("GET /metrics", s.instrument("metrics", http.HandlerFunc(s.serveMetrics)))
	if s.main != nil {
		s.worldRoutes(mux, s.main)
	} else {
		mux.Handle("GET /{$}", http.RedirectHandler("/demo/", http.StatusSeeOther))
	}
	if s.demo != nil {
		s.worldRoutes(mux, s.demo)
	}
	return s.secure(s.csrf.Handler(mux))
}

// worldRoutes are the pages, the API and the probe of one world.
func (s *Server) worldRoutes(mux *http.ServeMux, e *worldEnv) {
	h := func(pattern, name string, fn func(http.ResponseWriter, *http.Request, *worldEnv)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+e.base+path, s.instrument(name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fn(w, r, e) })))
	}
	h("GET /{$}", "home", s.home)
	h("POST /go", "go", s.route)
	h("GET /check/{domain}", "check", s.pageCheck)
	h("GET /smtp/{host}", "smtp", s.pageSMTP)
	h("GET /blocklist/{targets}", "blocklist", s.pageBlocklist)
	h("GET /explain", "explain", s.pageExplainGet)
	h("POST /explain", "explain", s.pageExplainPost)
	h("GET /preflight", "preflight", s.pagePreflightForm)
	h("POST /preflight", "preflight", s.pagePreflight)
	h("GET /api/v1/check", "api_check", s.apiCheck)
	h("GET /api/v1/smtp", "api_smtp", s.apiSMTP)
	h("GET /api/v1/blocklist", "api_blocklist", s.apiBlocklist)
	h("POST /api/v1/explain", "api_explain", s.apiExplain)
	h("POST /api/v1/preflight", "api_preflight", s.apiPreflight)
	h("GET /probe", "probe", s.probe)
}

// contentSecurityPolicy allows the page's own CSS and JavaScript files and
// nothing else: no inline script or style, no frames, no other origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure adds the security headers and the request's deadline.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		ctx, cancel := context.WithTimeout(r.Context(), s.o.Timeout)
		defer cancel()
		// A streamed page may write for as long as its report runs.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.o.Timeout + 15*time.Second))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// admit applies the client's rate (unless the report was prepaid by the
// home page's lookup) and the bound on reports in flight.
func (s *Server) admit(r *http.Request) (release func(), e *reqError) {
	client, now := clientKey(r, s.o.TrustedProxies), time.Now()
	if s.prepaid.take(client, r.URL.Path, now) {
		return s.acquireSlot()
	}
	if wait, ok := s.rates.allow(client, now); !ok {
		return nil, &reqError{status: http.StatusTooManyRequests, retryAfter: wait, reason: "rate-limit",
			msg: "too many reports from your address; try again in " + retryAfterSeconds(wait) + " s"}
	}
	return s.acquireSlot()
}

// acquireSlot takes one of the slots for reports in flight.
func (s *Server) acquireSlot() (release func(), e *reqError) {
	if !s.slots.tryAcquire() {
		return nil, &reqError{status: http.StatusTooManyRequests, retryAfter: 5 * time.Second, reason: "busy",
			msg: "the server is running as many reports as it may (" + strconv.Itoa(cap(s.slots)) + "); try again in a few seconds"}
	}
	s.metrics.inFlight.Add(1)
	return func() { s.metrics.inFlight.Add(-1); s.slots.release() }, nil
}

// serveJob answers with a report: admission, preparation, then the
// report in the output's form.
func (s *Server) serveJob(w http.ResponseWriter, r *http.Request, e *worldEnv, out output, j job, jerr *reqError) {
	if jerr != nil {
		s.fail(w, r, out, jerr)
		return
	}
	release, aerr := s.admit(r)
	if aerr != nil {
		s.fail(w, r, out, aerr)
		return
	}
	defer release()
	if j.prepare != nil {
		if perr := j.prepare(r.Context()); perr != nil {
			s.fail(w, r, out, perr)
			return
		}
	}
	switch out {
	case pageOutput:
		s.streamPage(w, r, e, j)
	case apiOutput:
		s.writeJSON(w, r, j)
	case probeOutput:
		s.writeProbe(w, r, j)
	}
}

// fail answers a request that does not run, in the output's form.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, out output, e *reqError) {
	s.metrics.rejected(e.reason)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(e.retryAfter))
	}
	w.Header().Set("Cache-Control", "no-store")
	switch out {
	case apiOutput:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": e.msg, "status": e.status})
	case probeOutput:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		_, _ = w.Write([]byte(e.msg + "\n"))
	default:
		s.errorPage(w, r, e)
	}
}

// errorStatus maps an error from a report's run to a status.
func errorStatus(err error) *reqError {
	if errors.Is(err, context.DeadlineExceeded) {
		return &reqError{status: http.StatusGatewayTimeout, msg: err.Error(), reason: "timeout"}
	}
	var inputErr *check.InputError
	if errors.Is(err, preflight.ErrOptions) || errors.Is(err, msgcheck.ErrNotMessage) || errors.As(err, &inputErr) {
		return badRequest(err.Error()) // the campaign, the uploaded message or the text to explain, as given
	}
	return &reqError{status: http.StatusInternalServerError, msg: err.Error(), reason: "internal"}
}
