package serve

// Reading what a request asks for: a domain, a host[:port], IP addresses
// or domains for the blocklists, a pasted text or an uploaded message.
// Malformed input is a 400 with the reason; a refused target a 403.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnsbl"
)

// maxTargets bounds the blocklist targets of one request.
const maxTargets = 20

// domainJob reads a domain check: the domain, and from the query the
// parts (only, skip) and a sending source to judge (ip, sender).
func (e *worldEnv) domainJob(input string, q url.Values) (job, *reqError) {
	domain, err := dnscheck.NormalizeDomain(input)
	if err != nil {
		return job{}, badRequest(err.Error())
	}
	if err := e.p.checkName(domain); err != nil {
		return job{}, refusedError(err)
	}
	req := checkRequest{domain: domain, only: listParam(q, "only"), skip: listParam(q, "skip")}
	if err := check.ValidatePartIDs(append(append([]string{}, req.only...), req.skip...)); err != nil {
		return job{}, badRequest(err.Error())
	}
	if ip := q.Get("ip"); ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return job{}, badRequest(fmt.Sprintf("ip %q is not an IP address", ip))
		}
		req.ip = a.Unmap()
	}
	if sender := q.Get("sender"); sender != "" {
		at := strings.LastIndexByte(sender, '@')
		if at <= 0 {
			return job{}, badRequest(fmt.Sprintf("sender %q is not an address (want local@domain)", sender))
		}
		d, err := dnscheck.NormalizeDomain(sender[at+1:])
		if err != nil {
			return job{}, badRequest(fmt.Sprintf("sender %q: %v", sender, err))
		}
		req.sender = sender[:at+1] + d
	}
	return e.checkJob(req), nil
}

// listParam reads a comma-separated or repeated query parameter.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// hostJob reads an SMTP dry run on HOST, HOST:PORT, IPv6 or [IPv6]:PORT
// (port 25 by default). The address is judged once resolved (prepare).
func (e *worldEnv) hostJob(input string) (job, *reqError) {
	input = strings.TrimSpace(input)
	host, port, err := check.SplitHostPort(input)
	if err != nil {
		return job{}, badRequest(err.Error())
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return job{}, badRequest(fmt.Sprintf("%q: an address with a zone is not a mail host", input))
		}
		if err := e.p.checkHost(host, a, port); err != nil {
			return job{}, refusedError(err)
		}
	} else if err := e.p.checkName(host); err != nil && !e.p.restricted() {
		// With --allow-target, the name may be allowed by its address.
		return job{}, refusedError(err)
	}
	return e.smtpJob(check.HostTarget{Input: input, Host: host, Port: port}), nil
}

// targetsJob reads blocklist targets: IP addresses and domains.
func (e *worldEnv) targetsJob(targets []string) (job, *reqError) {
	if len(targets) == 0 {
		return job{}, badRequest("give at least one IP address or domain to look up")
	}
	if len(targets) > maxTargets {
		return job{}, badRequest(fmt.Sprintf("%d targets; at most %d at a time", len(targets), maxTargets))
	}
	for i, t := range targets {
		if a, err := netip.ParseAddr(t); err == nil {
			if err := e.p.checkAddr(a); err != nil {
				return job{}, refusedError(err)
			}
			targets[i] = a.Unmap().String()
			continue
		}
		if err := dnsbl.ValidTarget(t); err != nil {
			return job{}, badRequest(fmt.Sprintf("%q: want an IP address or a domain name", t))
		}
		if err := e.p.checkName(t); err != nil {
			return job{}, refusedError(err)
		}
	}
	return e.blocklistJob(targets), nil
}

// splitTargets splits a list of targets on commas and white space.
func splitTargets(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// upload is a pasted text or an uploaded file.
type upload struct {
	text   []byte
	source string // "pasted text", "upload NAME"
}

// errTooLarge is an input over the upload limit.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("the input is over the %d MB limit; explain a smaller part of it (the notification and the delivery-status part of a bounce)", e.limit>>20)
}

func tooLarge(limit int64) *reqError {
	return &reqError{status: http.StatusRequestEntityTooLarge, msg: errTooLarge{limit}.Error(), reason: "too-large"}
}

// readForm reads a multipart (or urlencoded) form's text field and file
// field, each up to the upload limit, without spilling to disk, before the
// request's deadline.
func (s *Server) readForm(r *http.Request, w http.ResponseWriter, textField, fileField string) (map[string]string, *upload, *reqError) {
	defer s.bodyDeadline(w)()
	return readForm(r, w, s.o.MaxUpload, textField, fileField)
}

// readBody reads a raw request body up to the upload limit, before the
// request's deadline.
func (s *Server) readBody(r *http.Request, w http.ResponseWriter) ([]byte, *reqError) {
	defer s.bodyDeadline(w)()
	return readBody(r, w, s.o.MaxUpload)
}

// bodyDeadline bounds the reading of a request body: a client that sends
// it a byte at a time is cut at the request's deadline (the request's
// context does not reach body reads). The deadline is lifted once the body
// is read: the server's read of the connection after the body must not
// cancel a report that runs longer.
func (s *Server) bodyDeadline(w http.ResponseWriter) func() {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.o.Timeout))
	return func() { _ = rc.SetReadDeadline(time.Time{}) }
}

func readForm(r *http.Request, w http.ResponseWriter, limit int64, textField, fileField string) (fields map[string]string, file *upload, e *reqError) {
	r.Body = http.MaxBytesReader(w, r.Body, 2*limit+1<<20)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fields = map[string]string{}
	if mt != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, nil, bodyError(err, limit)
		}
		for k := range r.PostForm {
			fields[k] = r.PostForm.Get(k)
		}
		if int64(len(fields[textField])) > limit {
			return nil, nil, tooLarge(limit)
		}
		return fields, nil, nil
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, file, nil
		}
		if err != nil {
			return nil, nil, bodyError(err, limit)
		}
		b, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			return nil, nil, bodyError(err, limit)
		}
		if int64(len(b)) > limit {
			return nil, nil, tooLarge(limit)
		}
		switch {
		case p.FormName() == fileField && p.FileName() != "":
			if len(b) > 0 {
				file = &upload{text: b, source: "upload " + p.FileName()}
			}
		case p.FileName() == "":
			fields[p.FormName()] = string(b)
		}
	}
}

func bodyError(err error, limit int64) *reqError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &reqError{status: http.StatusRequestTimeout, reason: "bad-request",
			msg: "the request's body did not arrive before the deadline"}
	}
	return badRequest("reading the form: " + err.Error())
}

// readBody reads a raw request body (the API's explain) up to limit.
func readBody(r *http.Request, w http.ResponseWriter, limit int64) ([]byte, *reqError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return b, nil
}

// kindOf says what a single-line input is: "blocklist" (IP addresses),
// "smtp" (HOST:PORT), "name" (a domain or host: see nameKind),
// or "explain" (anything else: a reply, a log excerpt).
func kindOf(input string) string {
	fields := splitTargets(input)
	if len(fields) == 0 {
		return ""
	}
	allIPs := true
	for _, f := range fields {
		if _, err := netip.ParseAddr(f); err != nil {
			allIPs = false
		}
	}
	switch {
	case allIPs:
		return "blocklist"
	case len(fields) > 1 || strings.ContainsAny(input, "\r\n"):
		return "explain"
	}
	if host, port, err := net.SplitHostPort(fields[0]); err == nil && port != "" {
		if _, _, err := check.SplitHostPort(host + ":" + port); err == nil {
			return "smtp"
		}
	}
	if _, err := dnscheck.NormalizeDomain(fields[0]); err == nil {
		return "name"
	}
	return "explain"
}

// nameKind decides whether a name is a mail domain (it has MX records, or
// does not exist, or cannot be looked up: the check says which) or a mail
// host (no MX, but addresses): a user who types mx1.example.com wants
// that server probed.
func (e *worldEnv) nameKind(ctx context.Context, name string) string {
	_, res, err := e.resolver(0)
	if err != nil {
		return "check"
	}
	mx := res.Lookup(ctx, name, dns.TypeMX)
	if mx.Status != dnscheck.StatusNoData {
		return "check"
	}
	if h := dnscheck.LookupHost(ctx, res, name); len(h.Addrs) > 0 {
		return "smtp"
	}
	return "check"
}
