package serve

// The JSON API: the document of `--format json` (report.WriteJSON, with
// its schema_version), one report per request. The exit code the command
// line would have returned is in the X-Mxray-Exit-Code header; the DNS
// trace is included with trace=1, as --trace does.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mxray/mxray/report"
)

func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	q := r.URL.Query()
	if q.Get("domain") == "" {
		s.fail(w, r, apiOutput, badRequest("missing domain parameter"))
		return
	}
	j, jerr := e.domainJob(q.Get("domain"), q)
	s.serveJob(w, r, e, apiOutput, j, jerr)
}

func (s *Server) apiSMTP(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := e.hostJob(r.URL.Query().Get("host"))
	s.serveJob(w, r, e, apiOutput, j, jerr)
}

func (s *Server) apiBlocklist(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	j, jerr := e.targetsJob(listParam(r.URL.Query(), "target"))
	s.serveJob(w, r, e, apiOutput, j, jerr)
}

// apiExplain explains the request body: raw text or a message
// (text/plain, message/rfc822), or a form with a "text" field or a
// "file" upload. offline=1 skips the live follow-up.
func (s *Server) apiExplain(w http.ResponseWriter, r *http.Request, e *worldEnv) {
	in, rerr := s.explainInputOf(w, r, "text", "file")
	if rerr != nil {
		s.fail(w, r, apiOutput, rerr)
		return
	}
	s.serveJob(w, r, e, apiOutput, e.explainJob(in.text, in.source, r.URL.Query().Get("offline") == "1"), nil)
}

// explainInputOf reads what to explain from a form or a raw body.
func (s *Server) explainInputOf(w http.ResponseWriter, r *http.Request, textField, fileField string) (*upload, *reqError) {
	if isForm(r) {
		fields, file, rerr := s.readForm(r, w, textField, fileField)
		if rerr != nil {
			return nil, rerr
		}
		if file != nil {
			return file, nil
		}
		if t := fields[textField]; len(trimSpace(t)) > 0 {
			return &upload{text: []byte(t), source: "pasted text"}, nil
		}
		return nil, badRequest("nothing to explain: paste a reply, a log excerpt or a bounce, or upload a message")
	}
	b, rerr := s.readBody(r, w)
	if rerr != nil {
		return nil, rerr
	}
	if len(trimSpace(string(b))) == 0 {
		return nil, badRequest("nothing to explain: the request body is empty")
	}
	return &upload{text: b, source: "request body"}, nil
}

// writeJSON runs the job and writes its document.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, j job) {
	rep, err := j.run(r.Context(), func(string, []report.Section) {})
	if err != nil {
		s.fail(w, r, apiOutput, errorStatus(err))
		return
	}
	if r.URL.Query().Get("trace") != "1" {
		rep.Trace = nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Mxray-Exit-Code", strconv.Itoa(rep.ExitCode()))
	write := j.writeJSON
	if write == nil {
		write = report.WriteJSON
	}
	_ = write(w, rep)
}

// isForm reports whether the body is an HTML form.
func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "multipart/form-data") || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

func trimSpace(s string) string { return strings.TrimSpace(s) }
