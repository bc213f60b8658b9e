package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/internal/atomicfile"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/maillog"
	"github.com/mxray/mxray/report/message"
)

func init() {
	register(command{name: "explain", order: 60, summary: "a pasted reply, log line, NDR or whole bounce mapped to its cause, stage and fix",
		usage: "mxray explain [TEXT|FILE|-] [--offline] [--stage S] [flags]", run: runExplain})
}

func runExplain(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("explain", stdio, "mxray explain [TEXT|FILE|-] [--offline] [--stage S] [flags]",
		"Explains what a mail server said: a reply line (\"550 5.7.26 …\"), a multi-line reply, an Exchange NDR, a\n"+
			"whole bounce message (RFC 3464 DSN, non-standard bounce bodies, ARF feedback reports, auto-replies), or a\n"+
			"mail log (Postfix, Exim, Sendmail; syslog or journalctl output), given as TEXT, a FILE or on stdin (-).\n"+
			"Each reply (each recipient of a bounce) gets its stage, codes, reason class, cause, who must act and the\n"+
			"fix. A log is read as a stream: every refused, deferred or bounced recipient is one event, and the events\n"+
			"are grouped by cause (--format json lists every event too).\n"+
			"Unless --offline, what the text names is checked now: a blocklist zone and an IP (listed now?), an\n"+
			"SPF/DKIM/DMARC failure (the sender domain's SPF and DMARC now), a missing PTR (reverse DNS now); the\n"+
			"headline then says what is true now.")
	g := addGlobalFlags(fs)
	g.formats = []string{"text", "json"} // a reply or a log is no host for a monitoring system to watch
	offline := fs.Bool("offline", false, "do not run the live follow-up checks (no DNS queries): read the text alone")
	stageFlag := fs.String("stage", "", "the SMTP stage the reply answered, when the text does not say: connect, ehlo, starttls, auth, mail, rcpt, data")
	senderFlag := fs.String("sender", "", "the sender address of the bounced message, for the SPF/DMARC follow-up (default: the bounce's recipient)")
	ipFlag := fs.String("ip", "", "the sending IP address, for the blocklist/SPF/PTR follow-up (default: the IP the text names)")
	if code, done := parseFlags(fs, stdio, "explain", args); done {
		return code
	}
	opt, err := explainOptions(g, *offline, *stageFlag, *senderFlag, *ipFlag)
	if err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	if fs.NArg() == 0 {
		return usageError(stdio, "explain", "want the TEXT to explain, a FILE, or - for stdin")
	}
	in, source, err := explainOpen(stdio, fs.Args())
	if err != nil {
		return usageError(stdio, "explain", "%v", err)
	}
	defer in.Close()
	opt.Source = source
	cfg := check.Config{Version: version}
	if !opt.Offline {
		client, err := g.resolver()
		if err != nil {
			fmt.Fprintf(stdio.Stderr, "mxray explain: %v (or use --offline)\n", err)
			return report.ExitUnknown
		}
		cfg.Resolver = client
	}
	var events *eventStream
	if g.format == "json" {
		events = &eventStream{stdout: stdio.Stdout, path: g.output}
		opt.Events = events.start
	}
	rep, err := check.Explain(ctx, cfg, in, opt)
	return explainOutput(stdio, g, events, rep, err)
}

// explainOutput renders the explanation, or says why there is none.
func explainOutput(stdio IO, g *globalFlags, events *eventStream, rep *report.Report, err error) int {
	var inputErr *check.InputError
	if err != nil && events != nil {
		events.abort()
	}
	switch {
	case errors.As(err, &inputErr):
		return usageError(stdio, "explain", "%v", err)
	case err != nil:
		fmt.Fprintf(stdio.Stderr, "mxray explain: %v\n", err)
		return report.ExitUnknown
	case events != nil && events.ew != nil:
		return events.finish(stdio, g, rep)
	}
	return g.render(stdio, rep)
}

// eventStream writes a log's events as they are read (--format json),
// before the report: a log of any size is rendered without holding them.
// With --output the document goes to a file replaced whole at the end.
type eventStream struct {
	stdout io.Writer
	path   string               // --output, "" for stdout
	file   *atomicfile.File     // the pending --output file
	ew     *maillog.EventWriter // set once the input is known to be a log
	err    error
}

func (s *eventStream) start() func(*maillog.Event) error {
	w := s.stdout
	if s.path != "" {
		f, err := atomicfile.Create(s.path)
		if err != nil {
			s.err = fmt.Errorf("--output: %v", err)
			return func(*maillog.Event) error { return s.err }
		}
		s.file, w = f, f
	}
	s.ew = maillog.NewEventWriter(w)
	return s.ew.Write
}

// abort leaves an --output file as it was.
func (s *eventStream) abort() {
	if s.file != nil {
		s.file.Abort()
	}
}

// finish ends the document: the report's members follow the events.
func (s *eventStream) finish(stdio IO, g *globalFlags, rep *report.Report) int {
	if !g.trace {
		rep.Trace = nil
	}
	var buf bytes.Buffer
	err := s.err
	if err == nil {
		err = report.WriteJSON(&buf, rep)
	}
	if err == nil {
		err = s.ew.Finish(buf.Bytes())
	}
	if err == nil && s.file != nil {
		err = s.file.Commit()
	}
	if err != nil {
		s.abort()
		fmt.Fprintf(stdio.Stderr, "mxray: writing the report: %v\n", err)
		return report.ExitUnknown
	}
	return rep.ExitCode()
}

// explainOptions checks the flags and the global ones.
func explainOptions(g *globalFlags, offline bool, stage, sender, ip string) (check.ExplainOptions, error) {
	opt := check.ExplainOptions{Offline: offline, Sender: sender, FollowUpTimeout: g.timeout}
	if err := g.validate(); err != nil {
		return opt, err
	}
	if stage != "" {
		st, ok := message.ParseStage(stage)
		if !ok {
			return opt, fmt.Errorf("--stage %q: want connect, ehlo, starttls, auth, mail, rcpt, data, quit", stage)
		}
		opt.Message.Stage = st
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return opt, fmt.Errorf("--ip %q is not an IP address", ip)
		}
		opt.IP = a.Unmap()
	}
	if sender != "" && !strings.Contains(sender, "@") {
		return opt, fmt.Errorf("--sender %q is not an address (want local@domain)", sender)
	}
	return opt, nil
}

// explainOpen opens the input: "-" is stdin, an existing file is opened,
// an argument that looks like a path and names no file is an error, and
// anything else is the text itself (several arguments are joined, so an
// unquoted reply works).
func explainOpen(stdio IO, args []string) (io.ReadCloser, string, error) {
	if len(args) == 1 && args[0] == "-" {
		if stdio.Stdin == nil {
			return nil, "", errors.New("no stdin")
		}
		return io.NopCloser(stdio.Stdin), "stdin", nil
	}
	if len(args) == 1 {
		st, err := os.Stat(args[0])
		switch {
		case err == nil && st.Mode().IsRegular():
			file, err := os.Open(args[0])
			if err != nil {
				return nil, "", err
			}
			return file, args[0], nil
		case err == nil && st.IsDir():
			return nil, "", fmt.Errorf("%s is a directory, not a file to explain", args[0])
		case looksLikePath(args[0]):
			return nil, "", fmt.Errorf("%s: no such file (to explain it as text, quote it with a reply code)", args[0])
		}
	}
	return io.NopCloser(strings.NewReader(strings.Join(args, " "))), "argument", nil
}

// looksLikePath: an argument meant as a file name — one word with a "/",
// or a name ending in a mail or log extension. A reply has spaces and a
// code; a typo in a file name must not be explained as a reply.
func looksLikePath(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, ext := range []string{".eml", ".msg", ".log", ".txt", ".mbox"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return strings.Contains(l, "/") && !strings.ContainsAny(l, " \t\n")
}
