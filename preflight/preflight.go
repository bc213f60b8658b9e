// Package preflight answers a sender's question before a campaign: sent
// from these IPs, as this domain, with this message, to these recipients —
// what will Gmail, Yahoo (with AOL) and Microsoft's consumer mail refuse,
// with the reply each would send, and what to fix first.
//
// It is assembled from mxray's parts, as check/ assembles a domain check,
// never by copying them: reverse DNS and host addresses (dnscheck), SPF
// with its lookup counts (dnscheck/spf), DKIM keys and signature
// verification (dnscheck/dkim), DMARC and identifier alignment
// (dnscheck/dmarc: RFC 9989 and RFC 7489), blocklists (dnscheck/dnsbl), the
// message's form and one-click unsubscribe (preflight/msgcheck), the
// recipients list and its domains (preflight/recipients), and the reply
// catalog (report/catalog) that explains each provider's documented
// rejection as `mxray explain` would.
//
// The heart of the result is the provider table (rules.go): for each
// provider, each requirement of its published bulk-sender rules judged pass,
// fail, unknown (could not be checked: a DNS failure is never a fail) or
// manual (only the sender can see it), with whether it applies to this
// sender (Options.Volume against the provider's threshold). The facts and
// sources are gathered in the project's reference
// bulk-sender-requirements.md; the rows cite the providers' pages.
//
// Run returns a typed Result and the report; it never prints. Files:
// preflight.go (options, Run), sender.go (IPs, SPF, DKIM, DMARC, alignment,
// blocklists), size.go (the recipients' SIZE limits, from EHLO-only
// sessions), rules.go (the facts), applies.go (each provider's rules),
// replies.go (the documented rejections), sections.go (the evidence).
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/dnscheck/dmarc"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/spf"
	"github.com/mxray/mxray/preflight/msgcheck"
	"github.com/mxray/mxray/preflight/recipients"
	"github.com/mxray/mxray/report"
)

// Config is what a preflight takes from the outside world; tests swap the
// resolver, the product passes the system's.
type Config struct {
	Resolver dnscheck.Resolver
	// DNSBL chooses the blocklists (--list, --lists, --dqs-key).
	DNSBL            dnsbl.Selection
	DNSBLConcurrency int
	// SMTP configures the EHLO-only sessions that learn the recipients'
	// SIZE limits (size.go).
	SMTP    SMTPOptions
	Version string
	Now     func() time.Time
}

// Options are the campaign: who sends, from where, what, to whom.
type Options struct {
	// From is the RFC5322.From address; required.
	From string
	// MailFrom is the RFC5321.MailFrom (Return-Path) address: "" is From,
	// "<>" the null reverse-path (SPF then checks the HELO name).
	MailFrom string
	// HELO is the name the sending MTA says in EHLO; "" when unknown.
	HELO string
	// IPs are the sending addresses; at least one.
	IPs []netip.Addr
	// Selectors are DKIM selectors at the From domain; empty: those of the
	// message's signatures.
	Selectors []string
	// Message is the message as saved from the sending platform (nil: none).
	Message     []byte
	MessageName string
	// Recipients is the list (nil: none); read as a stream.
	Recipients     io.Reader
	RecipientsName string
	// Volume is the messages a day; negative when not given (the bulk
	// rules then apply).
	Volume int
	// Progress is called while recipient domains are looked up.
	Progress func(done, total int)
	// RecipientConcurrency: domains looked up at once (0: the default).
	RecipientConcurrency int
}

// Result is a preflight's typed result, with its report.
type Result struct {
	// From is the RFC5322.From the receivers judge: the message's own From
	// when a message is given, else Options.From.
	From recipients.Address `json:"from"`
	// GivenFrom is Options.From when the message's From is in another
	// domain (a failure of the message-format row); "" when they agree.
	GivenFrom    string               `json:"given_from,omitempty"`
	MailFrom     string               `json:"mail_from"` // "" for the null reverse-path
	SPFDomain    string               `json:"spf_domain"`
	IPs          []IPResult           `json:"ips"`
	SPF          *spf.Check           `json:"spf"`
	Keys         []*dkim.Result       `json:"dkim_keys,omitempty"`
	DKIM         *dkim.Verification   `json:"dkim,omitempty"`
	DMARC        *dmarc.Result        `json:"dmarc"`
	Alignment    Alignment            `json:"alignment"`
	Message      *msgcheck.Result     `json:"message,omitempty"`
	Recipients   *recipients.Result   `json:"recipients,omitempty"`
	Blocklists   *dnsbl.Report        `json:"blocklists,omitempty"`
	Sizes        []SizeLimit          `json:"size_limits,omitempty"`
	Requirements []report.Requirement `json:"requirements"`
	// Unchecked are the requirements that apply and were not checked
	// because an input was not given (no --message, no --selector).
	Unchecked      []Unchecked `json:"unchecked,omitempty"`
	Volume         int         `json:"volume"`
	SelectorsGiven bool        `json:"selectors_given"`

	Report *report.Report `json:"-"`
}

// ErrOptions is wrapped by Run's errors about the options themselves.
var ErrOptions = errors.New("preflight options")

// Run checks the campaign. It fails only on bad options, a message that
// is no message (msgcheck.ErrNotMessage) and a recipients list that cannot
// be read (recipients.ErrNotText, or the reader's error); every DNS
// failure is in the result as unknown.
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if cfg.Resolver == nil {
		return nil, fmt.Errorf("%w: no resolver", ErrOptions)
	}
	res, msg, err := prepare(opt)
	if err != nil {
		return nil, err
	}
	started := now(cfg)
	var wg sync.WaitGroup
	var listErr error
	if opt.Recipients != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			listErr = res.checkRecipients(ctx, cfg, opt)
		}()
	}
	res.checkSender(ctx, cfg, opt, msg)
	wg.Wait()
	if listErr != nil {
		return nil, listErr
	}
	res.checkSizes(ctx, cfg)
	res.Requirements, res.Unchecked = evaluate(res, opt)
	res.Report = res.buildReport(cfg, started)
	return res, nil
}

func now(cfg Config) time.Time {
	if cfg.Now != nil {
		return cfg.Now()
	}
	return time.Now()
}

// prepare validates the options and reads the message.
func prepare(opt Options) (*Result, *msgcheck.Result, error) {
	from, err := recipients.ParseAddress(opt.From)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: From: %v", ErrOptions, err)
	}
	if len(opt.IPs) == 0 {
		return nil, nil, fmt.Errorf("%w: no sending IP", ErrOptions)
	}
	res := &Result{From: from, Volume: opt.Volume, SelectorsGiven: len(opt.Selectors) > 0}
	switch opt.MailFrom {
	case "<>":
		if opt.HELO == "" {
			return nil, nil, fmt.Errorf("%w: a null MAIL FROM needs the HELO name (SPF checks it)", ErrOptions)
		}
		res.SPFDomain = opt.HELO
	case "":
		res.MailFrom, res.SPFDomain = from.String(), from.Domain
	default:
		mf, err := recipients.ParseAddress(opt.MailFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: MAIL FROM: %v", ErrOptions, err)
		}
		res.MailFrom, res.SPFDomain = mf.String(), mf.Domain
	}
	if opt.Message == nil {
		return res, nil, nil
	}
	msg, err := msgcheck.Check(opt.Message)
	if err != nil {
		return nil, nil, err
	}
	res.Message = msg
	res.judgeHeaderFrom(msg)
	return res, msg, nil
}

// judgeHeaderFrom makes the message's own From the one judged: receivers
// evaluate DMARC, alignment and impersonation on the RFC5322.From of the
// message they get (RFC 7489 §3.1, RFC 9989), not on what the sender
// believes it is. A From in another domain than Options.From is kept as
// GivenFrom, and fails the message-format row.
func (res *Result) judgeHeaderFrom(msg *msgcheck.Result) {
	if msg.FromDomain == "" || msg.FromDomain == res.From.Domain {
		return
	}
	res.GivenFrom = res.From.String()
	res.From = recipients.Address{Local: msg.From[:strings.LastIndexByte(msg.From, '@')], Domain: msg.FromDomain}
}

// checkRecipients reads the list and looks its domains up.
func (res *Result) checkRecipients(ctx context.Context, cfg Config, opt Options) error {
	l, err := recipients.Read(opt.Recipients)
	if err != nil {
		return err
	}
	before := queries(cfg.Resolver)
	res.Recipients = recipients.Check(ctx, cfg.Resolver, opt.RecipientsName, l,
		recipients.CheckOptions{Progress: opt.Progress, Concurrency: opt.RecipientConcurrency})
	res.Recipients.Queries = queries(cfg.Resolver) - before
	return nil
}

// queries counts the queries a tracing resolver has sent.
func queries(r dnscheck.Resolver) int {
	if t, ok := r.(interface{ Trace() []report.Query }); ok {
		return len(t.Trace())
	}
	return 0
}
