package serve

// The server's own metrics (/metrics) in the Prometheus text exposition
// format: requests by handler and status, their durations as a histogram,
// the reports in flight and the requests refused before running, by
// reason. Names carry their unit and counters end in _total (the
// Prometheus naming conventions).

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// durationBuckets are the histogram's upper bounds, in seconds: a page
// or a probe of a whole domain takes from milliseconds to a minute.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// rejectReasons are always exposed, at 0 until they happen.
var rejectReasons = []string{"bad-request", "busy", "cross-origin", "forbidden-target", "not-implemented", "rate-limit", "too-large"}

type metrics struct {
	inFlight atomic.Int64

	mu        sync.Mutex
	requests  map[[2]string]uint64 // handler, code
	durations map[string]*histogram
	refused   map[string]uint64
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newMetrics() *metrics {
	m := &metrics{requests: map[[2]string]uint64{}, durations: map[string]*histogram{}, refused: map[string]uint64{}}
	for _, r := range rejectReasons {
		m.refused[r] = 0
	}
	return m
}

func (m *metrics) rejected(reason string) {
	if reason == "" || reason == "internal" || reason == "timeout" {
		return // not refused: the report ran, or tried to
	}
	m.mu.Lock()
	m.refused[reason]++
	m.mu.Unlock()
}

func (m *metrics) observe(handler string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{handler, strconv.Itoa(code)}]++
	h := m.durations[handler]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets))}
		m.durations[handler] = h
	}
	sec := d.Seconds()
	for i, b := range durationBuckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += sec
	h.count++
}

// instrument counts a handler's requests and times them.
func (s *Server) instrument(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.metrics.observe(name, sw.code, time.Since(start))
	})
}

// statusWriter remembers the status; Unwrap keeps Flush and deadlines
// reachable through http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	s.metrics.write(bw, cap(s.slots))
	_ = bw.Flush()
}

func (m *metrics) write(w *bufio.Writer, maxInFlight int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	header(w, "mxray_serve_requests_total", "counter", "HTTP requests answered, by handler and status code.")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "mxray_serve_requests_total{handler=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	header(w, "mxray_serve_request_duration_seconds", "histogram", "Time taken to answer a request, by handler.")
	for _, name := range sortedKeys(m.durations) {
		h := m.durations[name]
		var cum uint64
		for i, b := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "mxray_serve_request_duration_seconds_bucket{handler=%q,le=%q} %d\n", name, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "mxray_serve_request_duration_seconds_bucket{handler=%q,le=\"+Inf\"} %d\n", name, h.count)
		fmt.Fprintf(w, "mxray_serve_request_duration_seconds_sum{handler=%q} %s\n", name, strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(w, "mxray_serve_request_duration_seconds_count{handler=%q} %d\n", name, h.count)
	}
	header(w, "mxray_serve_checks_in_flight", "gauge", "Reports (domain checks, SMTP dry runs, blocklist lookups, explanations) running now.")
	fmt.Fprintf(w, "mxray_serve_checks_in_flight %d\n", m.inFlight.Load())
	header(w, "mxray_serve_checks_in_flight_limit", "gauge", "The bound on reports running at once.")
	fmt.Fprintf(w, "mxray_serve_checks_in_flight_limit %d\n", maxInFlight)
	header(w, "mxray_serve_rejected_requests_total", "counter", "Requests refused before running, by reason.")
	for _, reason := range sortedKeys(m.refused) {
		fmt.Fprintf(w, "mxray_serve_rejected_requests_total{reason=%q} %d\n", reason, m.refused[reason])
	}
}

func header(w *bufio.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
