package serve

// The explanation of a pasted reply, log excerpt or bounce, or an uploaded
// message: check.Explain, the assembly of `mxray explain`, so the page and
// the API give what the command line gives. A log excerpt's JSON document
// lists its events before the report's members, as `mxray explain
// --format json` does.

import (
	"bytes"
	"context"
	"io"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/maillog"
	"github.com/mxray/mxray/report/message"
)

// MaxUpload is the default bound on a pasted text or uploaded message.
const MaxUpload = 10 << 20

// explainJob explains raw (named source: "pasted text", "upload NAME",
// "request body"). Each section is shown as soon as it is done: the input
// first, then each reply or group of log events with its follow-up.
func (e *worldEnv) explainJob(raw []byte, source string, offline bool) job {
	isLog := false
	j := job{command: "explain", target: source, parts: []string{"explain"}}
	j.run = func(ctx context.Context, emit emitFunc) (*report.Report, error) {
		cfg := e.checkConfig()
		if !offline {
			var err error
			if _, cfg.Resolver, err = e.resolver(0); err != nil {
				return nil, err
			}
		}
		cfg.OnPartDone = emit
		lim := message.DefaultLimits
		lim.MaxSize = MaxUpload
		opt := check.ExplainOptions{Source: source, Offline: offline, Message: message.ExplainOptions{Limits: lim},
			Events: func() func(*maillog.Event) error { isLog = true; return nil }}
		return check.Explain(ctx, cfg, bytes.NewReader(raw), opt)
	}
	j.writeJSON = func(w io.Writer, rep *report.Report) error {
		if !isLog {
			return report.WriteJSON(w, rep)
		}
		return writeLogJSON(w, raw, rep)
	}
	return j
}

// writeLogJSON writes the document of a log: its events, read again from
// raw (the exit code has gone out in a header before them, so they could
// not be written as the report was made), then the report's members.
func writeLogJSON(w io.Writer, raw []byte, rep *report.Report) error {
	events := maillog.NewEventWriter(w)
	if _, err := check.ScanLog(bytes.NewReader(raw), events.Write); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		return err
	}
	return events.Finish(buf.Bytes())
}
