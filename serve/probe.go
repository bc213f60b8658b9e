package serve

// /probe: blackbox_exporter's convention, so that a scrape config written
// for it works. GET /probe?target=T&module=M answers in the Prometheus text
// exposition format with probe_success (1 when the report has neither a
// failure nor an unknown: what exit codes 0 and 1 mean) and
// probe_duration_seconds, then the mxray_* metrics of the report
// (Options.WritePrometheus, the renderer of --format prometheus). The
// probe's deadline is the scrape's timeout
// (X-Prometheus-Scrape-Timeout-Seconds) less half a second, as
// blackbox_exporter's timeout_offset. debug=true adds the text report as
// comment lines. The dmarc and spf modules run only what their part needs
// and answer for their own section: probe_success is about the module.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/report"
)

// probeModules are the modules /probe knows, with what target each takes.
var probeModules = map[string]string{
	"check":     "a mail domain: the whole check",
	"dmarc":     "a mail domain: its DMARC policy",
	"spf":       "a mail domain: its SPF record tree",
	"smtp":      "a mail host[:port]: one SMTP dry run",
	"blocklist": "an IP address or a domain: the blocklists",
}

func (s *Server) probe(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	q := r.URL.Query()
	target, module := q.Get("target"), q.Get("module")
	if module == "" {
		module = "check"
	}
	if _, ok := probeModules[module]; !ok {
		s.fail(w, r, probeOutput, badRequest(fmt.Sprintf("unknown module %q (known: blocklist, check, dmarc, smtp, spf)", module)))
		return
	}
	if target == "" {
		s.fail(w, r, probeOutput, badRequest("missing target parameter"))
		return
	}
	j, jerr := e.probeJob(module, target)
	ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout(r, s.o.Timeout))
	defer cancel()
	s.serveJob(w, r.WithContext(ctx), e, probeOutput, j, jerr)
}

func (e *worldEnv) probeJob(module, target string) (job, *reqError) {
	switch module {
	case "smtp":
		return e.hostJob(target)
	case "blocklist":
		return e.targetsJob([]string{target})
	case "dmarc", "spf":
		j, err := e.domainJob(target, moduleParts[module])
		if err != nil {
			return j, err
		}
		return moduleReport(j, module), nil
	}
	return e.domainJob(target, nil)
}

// moduleParts are the parts the dmarc and spf modules run: the dmarc part
// waits for nothing a probe has (the SPF result only with a sending IP),
// so it runs alone; the spf part also evaluates the domain's MX addresses,
// so the MX part runs beside it.
var moduleParts = map[string]url.Values{
	"dmarc": {"only": {"dmarc"}, "skip": {"mx"}},
	"spf":   {"only": {"spf"}},
}

// moduleReport keeps, of the job's report, the module's own section (and
// the resolver's, which says whether any answer can be trusted): what
// probe_success and the mxray_* metrics are about. A missing MX record is
// not a failure of the DMARC module.
func moduleReport(j job, module string) job {
	run := j.run
	j.run = func(ctx context.Context, emit emitFunc) (*report.Report, error) {
		rep, err := run(ctx, emit)
		if err != nil {
			return rep, err
		}
		var keep []report.Section
		for _, s := range rep.Sections {
			if s.ID == module || s.ID == "resolver" {
				keep = append(keep, s)
			}
		}
		rep.Sections = keep
		rep.Finish(rep.StartedAt.Add(time.Duration(rep.Duration))) // the counts again, the same duration
		return rep, nil
	}
	return j
}

// scrapeTimeout is the scrape's timeout less 0.5 s, within the server's.
func scrapeTimeout(r *http.Request, limit time.Duration) time.Duration {
	v, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil || v <= 0 {
		return limit
	}
	d := time.Duration((v - 0.5) * float64(time.Second))
	if d < 500*time.Millisecond {
		d = 500 * time.Millisecond
	}
	return min(d, limit)
}

// writeProbe runs the job and writes the probe's metrics.
func (s *Server) writeProbe(w http.ResponseWriter, r *http.Request, j job) {
	start := time.Now()
	rep, err := j.run(r.Context(), func(string, []report.Section) {})
	took := time.Since(start)
	var body bytes.Buffer
	bw := bufio.NewWriter(&body)
	success := 0
	if err == nil && rep.ExitCode() <= report.ExitWarning {
		success = 1
	}
	header(bw, "probe_success", "gauge", "Whether the probe succeeded: the report has no failure and nothing unknown.")
	fmt.Fprintf(bw, "probe_success %d\n", success)
	header(bw, "probe_duration_seconds", "gauge", "How long the probe took to complete, in seconds.")
	fmt.Fprintf(bw, "probe_duration_seconds %s\n", strconv.FormatFloat(took.Seconds(), 'f', -1, 64))
	_ = bw.Flush()
	if err == nil {
		if werr := s.o.WritePrometheus(&body, rep); werr != nil {
			s.fail(w, r, probeOutput, &reqError{status: http.StatusInternalServerError, msg: "rendering the metrics: " + werr.Error(), reason: "internal"})
			return
		}
	}
	if r.URL.Query().Get("debug") == "true" {
		body.WriteString(debugComment(rep, err))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body.Bytes())
}

// debugComment is the text report (or the error) as exposition comments.
func debugComment(rep *report.Report, err error) string {
	var b bytes.Buffer
	if err != nil {
		b.WriteString("error: " + err.Error() + "\n")
	} else {
		_ = report.WriteText(&b, rep, report.TextOptions{})
	}
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		out.WriteString("# " + l + "\n")
	}
	return out.String()
}
