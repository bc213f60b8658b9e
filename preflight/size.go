package preflight

// The message's size against the SIZE limits (RFC 1870) the recipients' mail
// hosts announce. A limit is only known by asking: for the primary MX hosts
// that receive the most recipients (at most SMTPOptions.MaxHosts), one
// EHLO-only session each (probe.DryRun with NoMail: EHLO, STARTTLS, EHLO,
// QUIT) — never MAIL, never RCPT, never DATA. Where port 25 is blocked or a
// host does not answer, the limit stays unknown and the report says so.

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/preflight/recipients"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

// SMTPOptions configure the SIZE sessions.
type SMTPOptions struct {
	// Skip turns the sessions off (--no-smtp).
	Skip bool
	// Dial opens the connections; nil: the default dialer.
	Dial probe.DialFunc
	// HELO is the name said in EHLO; "": probe's default.
	HELO string
	// MaxHosts bounds the hosts asked (default 5).
	MaxHosts int
	// AllowSpecialUse dials private, loopback and documentation addresses
	// (tests route them to fakes); by default they are not dialed.
	AllowSpecialUse bool
	TLS             probe.TLSOptions
	// SessionTimeout bounds each session (default 30 s).
	SessionTimeout time.Duration
}

// SizeLimit is what one recipients' MX host announced.
type SizeLimit struct {
	Host       string `json:"host"`
	Addr       string `json:"addr,omitempty"`
	Recipients int    `json:"recipients"` // recipients whose primary MX it is
	Known      bool   `json:"known"`
	Limit      int64  `json:"limit,omitempty"` // octets; 0 = no limit announced
	Status     string `json:"status"`          // the session's status, or why none was tried
}

// checkSizes asks the busiest primary MX hosts for their SIZE limit.
func (res *Result) checkSizes(ctx context.Context, cfg Config) {
	if res.Message == nil || res.Recipients == nil || cfg.SMTP.Skip {
		return
	}
	hosts := busiestHosts(res.Recipients.DomainResults(), cfg.SMTP.MaxHosts)
	res.Sizes = make([]SizeLimit, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Sizes[i] = askSize(ctx, cfg, h)
		}()
	}
	wg.Wait()
}

// busiestHosts are the primary MX hosts with the most recipients.
func busiestHosts(domains []recipients.DomainResult, max int) []SizeLimit {
	if max <= 0 {
		max = 5
	}
	count := map[string]int{}
	for _, d := range domains {
		if d.Status == recipients.StatusMX && len(d.MX) > 0 {
			count[d.MX[0]] += d.Recipients
		}
	}
	out := make([]SizeLimit, 0, len(count))
	for h, n := range count {
		out = append(out, SizeLimit{Host: h, Recipients: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Recipients != out[j].Recipients {
			return out[i].Recipients > out[j].Recipients
		}
		return out[i].Host < out[j].Host
	})
	return out[:min(len(out), max)]
}

// askSize runs one EHLO-only session with the host's first address.
func askSize(ctx context.Context, cfg Config, s SizeLimit) SizeLimit {
	h := dnscheck.LookupHost(ctx, cfg.Resolver, s.Host)
	if len(h.Addrs) == 0 {
		s.Status = "no address"
		return s
	}
	a := h.Addrs[0]
	if use := dnscheck.SpecialUse(a); use != "" && !cfg.SMTP.AllowSpecialUse {
		s.Status = "not dialed: " + a.String() + " is " + use
		return s
	}
	s.Addr = net.JoinHostPort(a.String(), "25")
	timeout := cfg.SMTP.SessionTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	sess := probe.DryRun(ctx, probe.Config{Dial: cfg.SMTP.Dial, HELO: cfg.SMTP.HELO, NoMail: true, NoVRFY: true,
		NoPlainRetry: true, TLS: cfg.SMTP.TLS, ConnectTimeout: 10 * time.Second, SessionTimeout: timeout},
		probe.Target{Host: s.Host, Addr: s.Addr})
	s.Status = string(sess.Status)
	ext := sess.ExtensionsTLS
	if len(ext) == 0 {
		ext = sess.Extensions
	}
	if len(ext) > 0 {
		s.Limit, _ = ext.Size()
		s.Known = true
	}
	return s
}

// sizeFindings compares the message's size with the limits.
func (res *Result) sizeFindings() []report.Finding {
	var fs []report.Finding
	size := int64(res.Message.Size)
	for _, s := range res.Sizes {
		f := report.Finding{Subject: s.Host, References: []string{"RFC 1870"}}
		switch {
		case !s.Known:
			f.ID, f.Severity = "message.size-limit-unknown", report.Info
			f.Summary = fmt.Sprintf("the SIZE limit of %s (%d recipients) is not known: %s", s.Host, s.Recipients, s.Status)
		case s.Limit > 0 && size > s.Limit:
			f.ID, f.Severity = "message.size-over-limit", report.Failure
			f.Summary = fmt.Sprintf("the message (%d octets) is larger than the %d octets %s accepts (%d recipients)", size, s.Limit, s.Host, s.Recipients)
			f.Cause = "the server refuses it at MAIL FROM ... SIZE= or after DATA with 552 5.3.4"
			f.Fix = "make the message smaller: link to large files instead of attaching them"
		default:
			f.ID, f.Severity = "message.size-ok", report.OK
			f.Summary = fmt.Sprintf("the message (%d octets) is within the SIZE limit of %s (%s)", size, s.Host, limitText(s.Limit))
		}
		fs = append(fs, f)
	}
	return fs
}

func limitText(n int64) string {
	if n == 0 {
		return "no limit announced"
	}
	return fmt.Sprintf("%d octets", n)
}
