package maillog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/message"
)

// Options tune a Scanner. The zero value works.
type Options struct {
	// Now is the reference for syslog timestamps without a year; nil:
	// time.Now.
	Now func() time.Time
	// Explain holds the explain options; a nil Cache gets a new catalog
	// cache.
	Explain message.ExplainOptions
	// MaxLineBytes: longer lines are skipped and counted (default 64 KiB;
	// a log line is rarely over 2 KiB).
	MaxLineBytes int
	// MaxQueueIDs bounds the queue ids whose sender is remembered
	// (default 65536; the oldest is forgotten first).
	MaxQueueIDs int
	// MaxDeferred bounds the deferred recipients remembered until their
	// message expires or is delivered (default 16384).
	MaxDeferred int
}

// Stats counts what a scan read.
type Stats struct {
	Lines     int64 `json:"lines"`
	Bytes     int64 `json:"bytes"`
	MailLines int64 `json:"mail_lines"`          // lines of a known MTA
	Events    int64 `json:"events"`              // events emitted
	LongLines int64 `json:"long_lines,omitzero"` // lines over MaxLineBytes, skipped
	// Forgotten counts deferred recipients not remembered for expiry
	// because MaxDeferred was reached.
	Forgotten int64 `json:"forgotten,omitzero"`
}

// Scanner reads a mail log and emits its events.
type Scanner struct {
	r     *bufio.Reader
	opt   Options
	clock stampClock
	queue *queueState
	stats Stats

	cur     logLine
	curLine []byte
	extra   []*parsed // events a line produced besides its own (expiry)
}

// NewScanner returns a scanner of r.
func NewScanner(r io.Reader, opt Options) *Scanner {
	if opt.MaxLineBytes <= 0 {
		opt.MaxLineBytes = 64 << 10
	}
	if opt.MaxQueueIDs <= 0 {
		opt.MaxQueueIDs = 65536
	}
	if opt.MaxDeferred <= 0 {
		opt.MaxDeferred = 16384
	}
	if opt.Explain.Cache == nil {
		if c, err := catalog.Default(); err == nil {
			opt.Explain.Cache = c.NewCache(0)
		}
	}
	now := time.Now()
	if opt.Now != nil {
		now = opt.Now()
	}
	return &Scanner{r: bufio.NewReaderSize(r, opt.MaxLineBytes), opt: opt, clock: stampClock{now: now},
		queue: newQueueState(opt.MaxQueueIDs, opt.MaxDeferred)}
}

// Stats returns the counts so far.
func (s *Scanner) Stats() Stats {
	st := s.stats
	st.Forgotten = s.queue.forgotten
	return st
}

// Scan reads the log to its end and calls emit for each event, in log
// order. The event is the caller's to keep. An error from emit stops the
// scan and is returned; so is a read error.
func (s *Scanner) Scan(emit func(*Event) error) error {
	for {
		line, err := s.readLine()
		if len(line) > 0 {
			if e := s.line(line, emit); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine returns the next line without its line ending; an over-long
// line is skipped whole.
func (s *Scanner) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	s.stats.Bytes += int64(len(line))
	if errors.Is(err, bufio.ErrBufferFull) {
		s.stats.LongLines++
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = s.r.ReadSlice('\n')
			s.stats.Bytes += int64(len(more))
		}
		s.stats.Lines++
		return nil, err
	}
	if len(line) > 0 {
		s.stats.Lines++
	}
	line = bytes.TrimRight(line, "\r\n")
	return line, err
}

// line dispatches one line to its MTA's reader and emits what it found.
func (s *Scanner) line(b []byte, emit func(*Event) error) error {
	l, ok := splitLine(b)
	if !ok {
		l = logLine{msg: b}
	}
	s.cur, s.curLine = l, b
	var p *parsed
	program := ""
	switch {
	case !ok:
		p, program = s.bareLine(b)
	case l.exim:
		s.stats.MailLines++
		p, program = s.eximLine(l.msg), "exim"
	default:
		switch d := postfixDaemon(l.tag); {
		case d != "":
			s.stats.MailLines++
			p = s.postfixLine(d, l.msg)
		case isEximTag(l.tag):
			s.stats.MailLines++
			p = s.eximLine(l.msg)
		case isSendmailTag(l.tag):
			s.stats.MailLines++
			p = s.sendmailLine(l.msg)
		default:
			return nil
		}
		program = string(l.tag)
	}
	if p != nil {
		if err := s.emit(p, program, emit); err != nil {
			return err
		}
	}
	for len(s.extra) > 0 {
		x := s.extra[0]
		s.extra = s.extra[1:]
		if err := s.emit(x, program, emit); err != nil {
			return err
		}
	}
	return nil
}

// bareLine reads a line without a syslog prefix (a message pasted on its
// own), by its shape alone.
func (s *Scanner) bareLine(b []byte) (*parsed, string) {
	switch {
	case bytes.Contains(b, []byte(": reject: ")) || bytes.Contains(b, []byte(": milter-reject: ")) ||
		bytes.Contains(b, []byte("status=")) && bytes.Contains(b, []byte("to=<")) && !bytes.Contains(b, []byte("stat=")):
		if p := s.postfixLine("", b); p != nil {
			s.stats.MailLines++
			return p, "postfix"
		}
	case bytes.Contains(b, []byte("stat=")) || bytes.Contains(b, []byte("ruleset=")):
		if p := s.sendmailLine(b); p != nil {
			s.stats.MailLines++
			return p, "sendmail"
		}
	case bytes.Contains(b, []byte(" ** ")) || bytes.Contains(b, []byte(" == ")) || bytes.Contains(b, []byte(" rejected ")):
		if p := s.eximLine(b); p != nil {
			s.stats.MailLines++
			return p, "exim"
		}
	}
	return nil, ""
}

// emit explains what a line said and hands one event per recipient to
// the caller.
func (s *Scanner) emit(p *parsed, program string, emit func(*Event) error) error {
	if !p.haveSender {
		p.sender = s.queue.sender(p.mta, p.queueID)
	}
	if p.action == ActionDeferred {
		for _, r := range p.recipients {
			s.queue.deferred(p.mta, p.queueID, r, p, s.curLine)
		}
	}
	er := p.explain(s.opt.Explain)
	var when time.Time
	if len(s.cur.stamp) > 0 {
		when = s.clock.parse(s.cur.stamp)
	}
	line := string(s.curLine[:min(len(s.curLine), maxLine)])
	rcpts := p.recipients
	if len(rcpts) == 0 {
		rcpts = []string{""}
	}
	for _, r := range rcpts {
		ev := &Event{Time: when, LineNumber: int(s.stats.Lines), MTA: p.mta, Program: program, Host: string(s.cur.host),
			QueueID: p.queueID, Direction: p.direction, Action: p.action, Recipient: r, Sender: p.sender,
			RemoteHost: p.remoteHost, RemoteIP: p.remoteIP, DSN: p.dsn, Reply: er.Reply, Explanation: er.Explanation, Line: line}
		s.stats.Events++
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// expire turns the deferred recipients of a message that expired into
// expired events: the sending MTA gave up, for the reason of the last
// error it logged for each recipient.
func (s *Scanner) expire(mta, qid, sender string) {
	for _, d := range s.queue.takeDeferred(mta, qid) {
		x := *d.p
		x.action, x.recipients = ActionExpired, []string{d.rcpt}
		if sender != "" || x.sender == "" {
			x.sender, x.haveSender = sender, true
		}
		s.extra = append(s.extra, &x)
	}
}
