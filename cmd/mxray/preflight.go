package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mxray/mxray/preflight"
	"github.com/mxray/mxray/preflight/msgcheck"
	"github.com/mxray/mxray/preflight/recipients"
	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "preflight", order: 15, summary: "before a campaign: Gmail, Yahoo and Microsoft bulk-sender rules, row by row",
		usage: preflightUsage, run: runPreflight})
}

const preflightUsage = "mxray preflight --from ADDR --ip IP [--ip IP ...] [--mail-from ADDR] [--helo NAME] [--selector S ...] [--message FILE] [--recipients FILE|-] [--volume N] [flags]"

// preflightFlags are the campaign's flags.
type preflightFlags struct {
	from, mailFrom, helo string
	ips, selectors       []string
	message, recipients  string
	volume               int
	noSMTP               bool
}

func addPreflightFlags(fs *pflag.FlagSet) *preflightFlags {
	f := &preflightFlags{}
	fs.StringVar(&f.from, "from", "", "the From address of the campaign (required)")
	fs.StringArrayVar(&f.ips, "ip", nil, "a sending IP address, IPv4 or IPv6 (repeatable; at least one)")
	fs.StringVar(&f.mailFrom, "mail-from", "", "the MAIL FROM (Return-Path) address, default the From address; '<>' for the null sender (then --helo is needed)")
	fs.StringVar(&f.helo, "helo", "", "the EHLO name of the sending MTA (checked to resolve to each IP)")
	fs.StringArrayVar(&f.selectors, "selector", nil, "DKIM selector at the From domain (repeatable; default: those of the message's signatures)")
	fs.StringVar(&f.message, "message", "", "the message as saved from the sending platform (.eml): signatures, RFC 5322 form, one-click unsubscribe")
	fs.StringVar(&f.recipients, "recipients", "", "the recipients: one address a line, or CSV with the address first; - for stdin")
	fs.BoolVar(&f.noSMTP, "no-smtp", false, "do not ask the recipients' busiest MX hosts for their SIZE limit (one EHLO-only session each; never MAIL or RCPT)")
	fs.IntVar(&f.volume, "volume", -1, "messages a day; decides whether the bulk rules apply (Gmail 5,000 or more, Microsoft over 5,000); default: they apply")
	return f
}

const preflightHelp = "Before a campaign: will Gmail, Yahoo (with AOL) and Microsoft (Outlook.com, Hotmail, Live) take it? For these\n" +
	"IPs, this From domain, this message and these recipients, each requirement of each provider's bulk-sender\n" +
	"rules is judged pass, fail, unknown (could not be checked) or manual (only you can see it, or an input was\n" +
	"not given), with the rejection the provider documents for it, explained. The provider table comes first,\n" +
	"then the evidence: reverse DNS and HELO of each IP, SPF, DKIM keys and signatures, DMARC and alignment, the\n" +
	"message's form and RFC 8058 one-click unsubscribe, the recipients' domains and providers, the blocklists.\n" +
	"With --message, the message's own From is the one judged (receivers judge it); a From in another domain\n" +
	"than --from fails message-format. Recipients are never probed over SMTP: only their domains are looked up."

// preflightExitCodes are preflight's own: the provider table decides them.
const preflightExitCodes = `
Exit codes:
  0   every requirement that applies passes (or is manual by nature: TLS, spam rate); nothing above info
  1   nothing that applies fails or is unknown, but a requirement was not checked because --message or
      --selector was not given (finding preflight.not-checked), or the evidence has a warning (a
      duplicate recipient, a typo domain, a listing on a list the provider does not name)
  2   a requirement that applies fails
  3   a requirement that applies could not be checked (SERVFAIL, timeout), and none fails
  64  usage error: a malformed --from, --ip, address or flag; a message or list that cannot be read
`

func runPreflight(ctx context.Context, stdio IO, args []string) int {
	fs := newFlagSet("preflight", stdio, preflightUsage, preflightHelp)
	fs.Usage = func() {
		fmt.Fprintf(stdio.Stdout, "Usage: %s\n\n%s\n\nFlags:\n%s%s", preflightUsage, preflightHelp, fs.FlagUsages(), preflightExitCodes)
	}
	g := addGlobalFlags(fs)
	f := addPreflightFlags(fs)
	bf := addDNSBLFlags(fs)
	bf.env = stdio.Env
	if code, done := parseFlags(fs, stdio, "preflight", args); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "preflight", "unexpected argument %q (the campaign is given with flags)", fs.Arg(0))
	}
	if err := g.validate(); err != nil {
		return usageError(stdio, "preflight", "%v", err)
	}
	opt, err := f.options()
	if err != nil {
		return usageError(stdio, "preflight", "%v", err)
	}
	sel, err := bf.selection()
	if err != nil {
		return usageError(stdio, "preflight", "%v", err)
	}
	if err := f.readInputs(stdio, &opt); err != nil {
		return usageError(stdio, "preflight", "%v", err)
	}
	res, err := g.resolver()
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "mxray preflight: %v\n", err)
		return report.ExitUnknown
	}
	progress := newProgress(stdio)
	opt.Progress = progress.update
	ctx, cancel := g.context(ctx)
	defer cancel()
	out, err := preflight.Run(ctx, preflight.Config{Resolver: res, DNSBL: sel, Version: version,
		SMTP: preflight.SMTPOptions{Skip: f.noSMTP}}, opt)
	progress.done()
	if err != nil {
		return usageError(stdio, "preflight", "%v", preflightError(f, err))
	}
	return g.render(stdio, out.Report)
}

// options validates the flags: every malformed value is a usage error
// naming it.
func (f *preflightFlags) options() (preflight.Options, error) {
	opt := preflight.Options{HELO: f.helo, Volume: f.volume, MailFrom: f.mailFrom}
	if f.from == "" {
		return opt, errors.New("--from is required (the From address of the campaign)")
	}
	if _, err := recipients.ParseAddress(f.from); err != nil {
		return opt, fmt.Errorf("--from: %v", err)
	}
	opt.From = f.from
	if f.mailFrom != "" && f.mailFrom != "<>" {
		if _, err := recipients.ParseAddress(f.mailFrom); err != nil {
			return opt, fmt.Errorf("--mail-from: %v", err)
		}
	}
	if len(f.ips) == 0 {
		return opt, errors.New("--ip is required (each address the campaign is sent from)")
	}
	for _, s := range f.ips {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return opt, fmt.Errorf("--ip %q is not an IP address", s)
		}
		opt.IPs = append(opt.IPs, a.Unmap())
	}
	if err := f.validateRest(&opt); err != nil {
		return opt, err
	}
	return opt, nil
}

func (f *preflightFlags) validateRest(opt *preflight.Options) error {
	if f.helo != "" {
		h, err := recipients.ParseAddress("postmaster@" + f.helo)
		if err != nil {
			return fmt.Errorf("--helo %q is not a host name", f.helo)
		}
		opt.HELO = h.Domain
	}
	if f.mailFrom == "<>" && opt.HELO == "" {
		return errors.New("--mail-from '<>' needs --helo: SPF then checks the HELO name")
	}
	if f.volume < -1 {
		return fmt.Errorf("--volume %d: want a number of messages a day, 0 or more", f.volume)
	}
	sels, err := dkimSelectors(f.selectors)
	opt.Selectors = sels
	return err
}

// readInputs reads the message (whole: it is bounded) and opens the
// recipients list (a stream).
func (f *preflightFlags) readInputs(stdio IO, opt *preflight.Options) error {
	if f.message != "" {
		b, err := readBounded(f.message, msgcheck.MaxSize)
		if err != nil {
			return fmt.Errorf("--message: %v", err)
		}
		opt.Message, opt.MessageName = b, f.message
	}
	switch f.recipients {
	case "":
	case "-":
		opt.Recipients, opt.RecipientsName = stdio.Stdin, "stdin"
	default:
		fh, err := os.Open(f.recipients)
		if err != nil {
			return fmt.Errorf("--recipients: %v", err)
		}
		// The list is read while the run goes on; the process ends with it.
		opt.Recipients, opt.RecipientsName = fh, f.recipients
	}
	return nil
}

// readBounded reads a file of at most limit octets.
func readBounded(name string, limit int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d octets; no mailbox provider accepts such a message", name, limit)
	}
	return b, nil
}

// preflightError names the input an error is about: the message, the
// recipients list, or the options.
func preflightError(f *preflightFlags, err error) error {
	switch {
	case errors.Is(err, msgcheck.ErrNotMessage):
		return fmt.Errorf("--message %s: %v", f.message, err)
	case errors.Is(err, preflight.ErrOptions) || f.recipients == "":
		return err
	}
	return fmt.Errorf("--recipients %s: %v", f.recipients, err)
}

// progress is the line on a terminal's stderr while recipient domains are
// looked up; nothing when stderr is not a terminal (machine output stays
// clean).
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress(stdio IO) *progress {
	f, ok := stdio.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{w: stdio.Stderr}
}

func (p *progress) update(done, total int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\rlooking up recipient domains: %d/%d", done, total)
}

func (p *progress) done() {
	if p.w != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
