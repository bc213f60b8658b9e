package serve

// The pages. A result page is streamed: the head and one slot per part
// of the report first, then each part's sections as it finishes (in the
// order they finish), then the summary. app.js moves every part into its
// slot and the summary to the top; without JavaScript the parts simply
// follow each other, and the summary comes last.

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

func parseTemplates() (*template.Template, error) {
	return template.New("pages").Funcs(template.FuncMap{
		"visible":     visible,
		"word":        severityWord,
		"dnsblClass":  dnsblStatusClass,
		"dnsblAnswer": dnsblAnswer,
	}).ParseFS(templateFiles, "templates/*.html")
}

// page is what every page template gets.
type page struct {
	Title, Base, WorldName, Version string
	DemoLink                        bool
	// home
	Examples    []ExampleDomain
	MaxUploadMB int64
	// result pages
	Heading, Target, Share, JSON string
	Parts                        []string
	Alt                          []link
	// error pages
	Error string
}

type link struct{ URL, Text string }

func (s *Server) page(e *worldEnv, title string) page {
	p := page{Title: title, Base: e.base, WorldName: e.w.Name, Version: s.o.Version,
		DemoLink: s.demo != nil && e != s.demo, MaxUploadMB: s.o.MaxUpload >> 20}
	return p
}

// render writes a whole (small) page; a template error is a 500.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	p := s.page(e, "Check a mail domain")
	p.Examples = e.w.Domains
	s.render(w, http.StatusOK, "home", p)
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, rerr *reqError) {
	e := s.main
	if s.demo != nil && (e == nil || strings.HasPrefix(r.URL.Path, "/demo/")) {
		e = s.demo
	}
	p := s.page(e, http.StatusText(rerr.status))
	p.Error = rerr.msg
	s.render(w, rerr.status, "error", p)
}

// route reads the home page's one input and sends the user where it
// belongs: a result page with a shareable GET URL (303 See Other), or,
// for a long pasted text or an upload, its explanation at once.
func (s *Server) route(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	fields, file, rerr := s.readForm(r, w, "q", "eml")
	if rerr != nil {
		s.fail(w, r, pageOutput, rerr)
		return
	}
	if file != nil {
		s.serveJob(w, r, e, pageOutput, e.explainJob(file.text, file.source, false), nil)
		return
	}
	q := strings.TrimSpace(fields["q"])
	if at := strings.LastIndexByte(q, '@'); at > 0 && !strings.ContainsAny(q, " \t\r\n") {
		q = q[at+1:] // an address: check its domain
	}
	to := ""
	switch kindOf(q) {
	case "":
		s.fail(w, r, pageOutput, badRequest("nothing to check: type a domain, a mail host, IP addresses, or paste a reply or a bounce"))
		return
	case "blocklist":
		ts := splitTargets(q)
		for i := range ts {
			ts[i] = url.PathEscape(ts[i])
		}
		to = "/blocklist/" + strings.Join(ts, ",")
	case "smtp":
		to = "/smtp/" + url.PathEscape(q)
	case "name":
		name, _ := dnscheck.NormalizeDomain(q)
		kind, rerr := s.lookUpKind(r, e, name)
		if rerr != nil {
			s.fail(w, r, pageOutput, rerr)
			return
		}
		to = "/" + kind + "/" + url.PathEscape(name)
	default:
		if len(q) <= 1000 && !strings.ContainsAny(q, "\r\n") {
			to = "/explain?text=" + url.QueryEscape(q)
		} else {
			s.serveJob(w, r, e, pageOutput, e.explainJob([]byte(q), "pasted text", false), nil)
			return
		}
	}
	http.Redirect(w, r, e.base+to, http.StatusSeeOther)
}

// lookUpKind decides whether a name typed in the home page is a mail
// domain or a mail host. The lookup is a report's first step and is
// treated as one: the name must pass the policy (--allow-target, special
// names) before anything is asked about it — the redirect would otherwise
// tell which refused names exist — and the lookup is admitted and charged
// to the client's rate; the report it leads to is then prepaid.
func (s *Server) lookUpKind(r *http.Request, e *worldEnv, name string) (string, *reqError) {
	if err := e.p.checkName(name); err != nil {
		return "", refusedError(err)
	}
	release, aerr := s.admit(r)
	if aerr != nil {
		return "", aerr
	}
	kind := e.nameKind(r.Context(), name)
	release()
	s.prepaid.grant(clientKey(r, s.o.TrustedProxies), e.base+"/"+kind+"/"+name, time.Now())
	return kind, nil
}

func (s *Server) pageCheck(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := e.domainJob(r.PathValue("domain"), r.URL.Query())
	s.serveJob(w, r, e, pageOutput, j, jerr)
}

func (s *Server) pageSMTP(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := e.hostJob(r.PathValue("host"))
	s.serveJob(w, r, e, pageOutput, j, jerr)
}

func (s *Server) pageBlocklist(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := e.targetsJob(splitTargets(r.PathValue("targets")))
	s.serveJob(w, r, e, pageOutput, j, jerr)
}

func (s *Server) pageExplainGet(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	text := r.URL.Query().Get("text")
	if strings.TrimSpace(text) == "" {
		http.Redirect(w, r, e.base+"/", http.StatusSeeOther)
		return
	}
	s.serveJob(w, r, e, pageOutput, e.explainJob([]byte(text), "pasted text", false), nil)
}

func (s *Server) pageExplainPost(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	in, rerr := s.explainInputOf(w, r, "q", "eml")
	if rerr != nil {
		s.fail(w, r, pageOutput, rerr)
		return
	}
	s.serveJob(w, r, e, pageOutput, e.explainJob(in.text, in.source, false), nil)
}

func (s *Server) pagePreflightForm(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	s.render(w, http.StatusOK, "preflight", s.page(e, "Preflight"))
}

func (s *Server) pagePreflight(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := s.preflightForm(w, r, e)
	s.serveJob(w, r, e, pageOutput, j, jerr)
}

// headings of result pages, by command.
var headings = map[string]string{
	"check": "Mail domain check:", "smtp": "SMTP dry run:", "blocklist": "Blocklists:",
	"explain": "Explanation of", "preflight": "Preflight for",
}

// resultPage is the head of a result page for a job.
func (s *Server) resultPage(r *http.Request, e *worldEnv, j job) page {
	p := s.page(e, j.command+" "+j.target)
	p.Heading, p.Target, p.Parts = headings[j.command], j.target, j.parts
	if r.Method == http.MethodGet {
		p.Share = r.URL.RequestURI()
	}
	switch j.command {
	case "check":
		p.JSON = e.base + "/api/v1/check?domain=" + url.QueryEscape(j.target)
		p.Alt = []link{{e.base + "/smtp/" + url.PathEscape(j.target), "probe " + j.target + " as a mail host"}}
	case "smtp":
		p.JSON = e.base + "/api/v1/smtp?host=" + url.QueryEscape(j.target)
		if host, _, err := check.SplitHostPort(j.target); err == nil && kindOf(host) == "name" {
			p.Alt = []link{{e.base + "/check/" + url.PathEscape(host), "check " + host + " as a mail domain"}}
		}
	case "blocklist":
		if p.Share != "" {
			p.JSON = e.base + "/api/v1/blocklist?target=" + url.QueryEscape(r.PathValue("targets"))
		}
	}
	return p
}

// streamPage runs the job and streams its page: head, parts as they
// finish, summary. Every write is flushed; a client that goes away
// cancels the report.
func (s *Server) streamPage(w http.ResponseWriter, r *http.Request, e *worldEnv, j job) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	rc := http.NewResponseController(w)
	out := &flushWriter{w: w, rc: rc}
	p := s.resultPage(r, e, j)
	out.exec(s.pages, "result-head", p)

	type partDone struct {
		part string
		secs []report.Section
	}
	parts := make(chan partDone, 64)
	type result struct {
		rep *report.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := j.run(r.Context(), func(part string, secs []report.Section) { parts <- partDone{part, secs} })
		done <- result{rep, err}
	}()
	for {
		select {
		case pd := <-parts:
			out.exec(s.pages, "part", map[string]any{"Part": pd.part, "Sections": viewSections(pd.secs)})
			continue
		case res := <-done:
			for len(parts) > 0 { // parts announced before the end
				pd := <-parts
				out.exec(s.pages, "part", map[string]any{"Part": pd.part, "Sections": viewSections(pd.secs)})
			}
			if res.err != nil {
				out.exec(s.pages, "failed", res.err.Error())
			} else {
				out.exec(s.pages, "final", viewSummary(res.rep))
			}
		}
		break
	}
	out.exec(s.pages, "result-foot", p)
}

// flushWriter executes templates into the response and flushes each.
type flushWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (f *flushWriter) exec(t *template.Template, name string, data any) {
	if f.err != nil {
		return // the client went away; the report's context ends too
	}
	var b bytes.Buffer
	if f.err = t.ExecuteTemplate(&b, name, data); f.err != nil {
		b.Reset()
		template.HTMLEscape(&b, []byte("rendering failed: "+f.err.Error()))
	}
	if _, err := f.w.Write(b.Bytes()); err != nil {
		f.err = err
		return
	}
	_ = f.rc.Flush()
}

// serveStatic serves the embedded CSS and JavaScript.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(staticFiles, path.Join("static", name))
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}
