package check

// The smtp part: a live dry run (probe.DryRun) on port 25 of every address
// of every MX host, and the submission ports 587/465 of the hosts named by
// RFC 6186 SRV records or --submission. Hosts are probed concurrently; the
// addresses of one host in turn, and never two connections to one IP at a
// time (design.md §4: politeness bounds the concurrency).

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/probe"
	"github.com/mxray/mxray/report"
)

// SMTPOptions configures the smtp part of the domain check.
type SMTPOptions struct {
	// HELO, From, ProbeSender, Recipients: see probe.Config (--helo,
	// --from, --rcpt).
	HELO        string
	From        string
	ProbeSender string
	Recipients  []string
	// Submission are extra submission hosts, "HOST" or "HOST:PORT"
	// (--submission); without a port both 587 and 465 are tried.
	Submission []string
	// ShowTranscript puts every session's transcript in the text report.
	ShowTranscript bool
	// TLS options for every session (tests set RootCAs).
	TLS probe.TLSOptions
	// Timeouts and limits of each session; zero: probe's defaults.
	ConnectTimeout, GreetingTimeout, CommandTimeout, SessionTimeout time.Duration
	// Locks keeps one connection per IP at a time. Checks that share one
	// (a --domains run, a server) never probe an address twice at once.
	// nil: each check has its own.
	Locks *IPLocks
	// AllowSpecialUse probes MX addresses that are private, loopback or
	// documentation addresses (tests route them to fakes). By default they
	// are not dialed: a public MX pointing there is already reported by
	// the mx part, and dialing it would probe the local network.
	AllowSpecialUse bool
}

// SMTPResult is the smtp part's typed result.
type SMTPResult struct {
	Sessions   []*probe.Session `json:"sessions"`
	Submission []*probe.Session `json:"submission,omitempty"`
}

func init() {
	Register(Part{ID: "smtp", Order: 80, Run: runSMTP})
}

// probeConfig is a session's settings from the SMTP options, the dialer
// and the clock, for mail domain domain.
func (c *Config) probeConfig(domain string) probe.Config {
	o := c.SMTP
	return probe.Config{
		Dial: c.Dial, HELO: o.HELO, From: o.From, ProbeSender: o.ProbeSender,
		Domain: domain, Recipients: o.Recipients, TLS: o.TLS,
		ConnectTimeout: o.ConnectTimeout, GreetingTimeout: o.GreetingTimeout,
		CommandTimeout: o.CommandTimeout, SessionTimeout: o.SessionTimeout,
		Now: c.Now,
	}
}

// runSMTP is the smtp part: plan the MX addresses, probe them (with the
// submission checks alongside), then judge every session.
func runSMTP(ctx context.Context, env *Env) ([]report.Section, any) {
	sec := report.Section{ID: "smtp", Title: "SMTP on the mail hosts (port 25 dry run; no message is sent)"}
	mx, ok := env.MX(ctx)
	if !ok {
		sec.Add(report.Finding{ID: "smtp.no-mx-data", Severity: report.Unknown,
			Summary: "the MX hosts are not known (the MX check did not run or failed), so no SMTP session was tried"})
		return []report.Section{sec}, nil
	}
	res := &SMTPResult{}
	locks := env.Config.SMTP.Locks
	if locks == nil {
		locks = &IPLocks{}
	}
	jobs, skipped := env.mxJobs(mx)
	if len(jobs) == 0 {
		sec.Add(nothingToProbe(mx, skipped))
	}

	// DANE: the TLSA records of the hosts, when the dane part runs.
	awaitTLSA := env.awaitDANE(ctx)
	stsMode := env.awaitSTSMode(ctx)

	// Sessions: hosts concurrently, the addresses of a host one after the other.
	results, wait := env.probeMXHosts(ctx, locks, jobs)

	// Submission runs beside the port-25 sessions (sharing the IP locks).
	subCh := make(chan []report.Section, 1)
	go func() { subCh <- env.runSubmission(ctx, locks, res) }()
	wait()
	tlsa := awaitTLSA()
	// Reverse DNS ran beside the sessions (the rdns part); the banner
	// check compares it with the banner.
	rd, _ := env.RDNS(ctx)

	sec.Add(env.mxSessionFindings(res, results, rd, tlsa)...)
	gradeCertificates(sec.Findings, stsMode())
	if len(skipped) > 0 && len(jobs) > 0 {
		sec.Add(report.Finding{ID: "smtp.skipped-addresses", Severity: report.Info,
			Summary: "some MX addresses were not probed: they are not public", Evidence: skipped})
	}
	sec.Detail = &probe.Detail{Sessions: res.Sessions, ShowTranscript: env.Config.SMTP.ShowTranscript, ShowReplies: env.Config.SMTP.ShowTranscript}
	subs := <-subCh
	return append([]report.Section{sec}, subs...), res
}

// mxJob is one MX address to probe on port 25.
type mxJob struct {
	host dnscheck.MXHost
	addr netip.Addr
}

// mxRun is a finished port-25 session and the job it ran.
type mxRun struct {
	s   *probe.Session
	job mxJob
}

// mxJobs are the addresses to probe, grouped by host; skipped are the
// special-use addresses left out (unless AllowSpecialUse).
func (env *Env) mxJobs(mx *dnscheck.MXResult) (jobs [][]mxJob, skipped []string) {
	for _, h := range mx.Hosts {
		var hj []mxJob
		for _, a := range h.Addrs {
			if why := dnscheck.SpecialUse(a); why != "" && !env.Config.SMTP.AllowSpecialUse {
				skipped = append(skipped, fmt.Sprintf("%s %s (%s)", h.Name, a, why))
				continue
			}
			hj = append(hj, mxJob{host: h, addr: a})
		}
		if len(hj) > 0 {
			jobs = append(jobs, hj)
		}
	}
	return jobs, skipped
}

// nothingToProbe says why no MX address is probed.
func nothingToProbe(mx *dnscheck.MXResult, skipped []string) report.Finding {
	if len(skipped) > 0 {
		return report.Finding{ID: "smtp.no-public-address", Severity: report.Unknown,
			Summary: "no MX address was probed: none is a public address", Evidence: skipped}
	}
	return report.Finding{ID: "smtp.no-hosts", Severity: report.Info,
		Summary: "there is no mail host to probe (" + mxStatus(mx) + ")"}
}

// awaitDANE waits for the dane part's result beside the sessions; the
// function it returns blocks until that wait is over.
func (env *Env) awaitDANE(ctx context.Context) func() *dane.Result {
	var tlsa *dane.Result
	daneCh := make(chan struct{})
	go func() {
		defer close(daneCh)
		if v, ok := env.Await(ctx, "dane"); ok {
			tlsa, _ = v.(*dane.Result)
		}
	}()
	return func() *dane.Result {
		<-daneCh
		return tlsa
	}
}

// probeMXHosts starts the port-25 sessions: one goroutine per host, the
// addresses of a host one after the other, one connection per IP at a
// time. The results, per host, are complete once wait returns.
func (env *Env) probeMXHosts(ctx context.Context, locks *IPLocks, jobs [][]mxJob) (results [][]mxRun, wait func()) {
	results = make([][]mxRun, len(jobs))
	var wg sync.WaitGroup
	for hi, hj := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range hj {
				t := probe.Target{Host: j.host.Name, Addr: net.JoinHostPort(j.addr.String(), "25")}
				s := env.dryRunLocked(ctx, locks, env.Config.probeConfig(env.Domain), t, j.addr.String())
				results[hi] = append(results[hi], mxRun{s, j})
			}
		}()
	}
	return results, wg.Wait
}

// dryRunLocked runs one session while holding ip's slot. A deadline that
// ends the wait for the slot (another check's session to the same address
// ran long) ends the session as canceled, before any connection.
func (env *Env) dryRunLocked(ctx context.Context, locks *IPLocks, cfg probe.Config, t probe.Target, ip string) *probe.Session {
	unlock, err := locks.Lock(ctx, ip)
	if err != nil {
		_, p, _ := net.SplitHostPort(t.Addr)
		port, _ := strconv.Atoi(p)
		return &probe.Session{Host: t.Host, Addr: t.Addr, Port: port, Mode: cfg.Mode, Status: probe.StatusCanceled,
			Detail: "not probed: the deadline came while another session to " + ip + " ran (one connection per address at a time)"}
	}
	defer unlock()
	return probe.DryRun(ctx, cfg, t)
}

// mxSessionFindings judges the port-25 sessions in host order, records
// them in res, and says what it means when none could be reached.
func (env *Env) mxSessionFindings(res *SMTPResult, results [][]mxRun, rd *dnscheck.RDNSResult, tlsa *dane.Result) []report.Finding {
	r := tallyReach(results)
	var out []report.Finding
	for _, hr := range results {
		for _, d := range hr {
			res.Sessions = append(res.Sessions, d.s)
			out = append(out, env.mxFindings(d, rd, r.reached > 0)...)
			out = append(out, daneFindings(tlsa, d.s)...)
		}
	}
	return append(out, r.verdict(env.Domain, res.Sessions)...)
}

// reach counts how the port-25 connection attempts ended. A refusal (TCP
// reset) is an answer from the host; a timeout is silence, which is what
// a firewall that drops packets produces — at the host, or on this network.
type reach struct {
	reached  int // an SMTP conversation took place, or at least a TCP connection
	refused  int // connection-refused: the host answered no
	timedOut int // connection-timeout: nothing came back
	attempts int // sessions that tried to connect (not canceled, not unroutable from here)
}

func tallyReach(results [][]mxRun) reach {
	var r reach
	for _, hr := range results {
		for _, d := range hr {
			switch st := d.s.Status; {
			case st == probe.StatusCanceled || st == probe.StatusNetworkUnreachable:
				continue // not a connection attempt that reached the network
			case st == probe.StatusConnectionRefused:
				r.refused++
			case st == probe.StatusConnectionTimeout:
				r.timedOut++
			case !st.ConnectFailed():
				r.reached++
			}
			r.attempts++
		}
	}
	return r
}

// verdict is the domain-level finding when no MX address could be reached:
// every attempt timed out (port 25 looks filtered on this network: the
// domain is not judged), or every address refused (the domain's mail hosts
// accept no mail). A mix of refusals and silence is left to the findings
// of each host.
func (r reach) verdict(domain string, sessions []*probe.Session) []report.Finding {
	if r.attempts == 0 || r.reached > 0 {
		return nil
	}
	switch {
	case r.timedOut == r.attempts:
		return []report.Finding{port25Blocked(sessions)}
	case r.refused == r.attempts:
		return []report.Finding{allRefused(domain, sessions)}
	}
	return nil
}

// mxFindings judges one port-25 session, with the PTR of its address.
func (env *Env) mxFindings(d mxRun, rd *dnscheck.RDNSResult, anyReached bool) []report.Finding {
	o := probe.FindingOptions{Now: env.Now()}
	if ptr, ok := ptrFor(rd, d.job.addr); ok {
		ptrOptions(&o, ptr)
	}
	fs := d.s.Findings(o)
	for i := range fs {
		if fs[i].ID == "smtp.connect-failed" && anyReached && d.s.Status != probe.StatusNetworkUnreachable {
			// Other hosts answered, so this network can reach port 25:
			// the host itself is unreachable.
			fs[i].Severity = report.Warning
			fs[i].Summary += "; other mail hosts were reachable from here, so this one is down or filtered"
			fs[i].Cause = "senders skip to the next MX host after a delay; if it is the only working one, mail is delayed or bounced"
		}
	}
	return fs
}

// port25Blocked: every connection attempt to port 25 timed out while DNS
// works — what egress filtering looks like, not a fault of the domain.
func port25Blocked(sessions []*probe.Session) report.Finding {
	return report.Finding{ID: "smtp.port25-blocked", Severity: report.Unknown,
		Summary:  "unknown: no MX host answered on port 25 — every connection attempt timed out while DNS works, which is what a network that blocks outgoing port 25 looks like (common on cloud hosts and residential ISPs)",
		Evidence: sessionSummaries(sessions),
		Cause:    "a timeout is silence, not an answer: a firewall dropped the packets, here or at every mail host; many providers drop outgoing connections to port 25 to stop spam from compromised machines, and then nothing can be said about the mail hosts",
		Fix:      "run mxray from a host that may connect to port 25 (a mail server, or a VPS whose provider allows it), or ask the provider to lift the block"}
}

// allRefused: every MX address refused the connection — the hosts
// answered, and no sender can deliver.
func allRefused(domain string, sessions []*probe.Session) report.Finding {
	return report.Finding{ID: "smtp.all-refused", Severity: report.Failure,
		Summary:    "every MX address refused the connection on port 25: no sender can deliver mail to " + domain,
		Evidence:   sessionSummaries(sessions),
		Cause:      "a refusal (TCP reset) comes back from the host: the path is open and nothing accepts mail there (the server is stopped, listens on other addresses, or its firewall rejects port 25); senders retry and then bounce",
		Fix:        "start the mail server (or open port 25 in its firewall) on the addresses the MX records name, or correct the MX records",
		References: []string{"RFC 5321 §5.1", "RFC 9293 §3.10.7.1"}}
}

func sessionSummaries(sessions []*probe.Session) []string {
	ev := make([]string, 0, len(sessions))
	for _, s := range sessions {
		ev = append(ev, s.Summary())
	}
	return ev
}

func ptrFor(rd *dnscheck.RDNSResult, a netip.Addr) (dnscheck.PTRResult, bool) {
	if rd == nil {
		return dnscheck.PTRResult{}, false
	}
	return rd.For(a)
}

func mxStatus(mx *dnscheck.MXResult) string {
	switch {
	case mx.NullMX:
		return "null MX"
	case len(mx.Hosts) == 0:
		return "no MX hosts: " + mx.Status
	}
	return "no addresses"
}

// daneFindings compares the presented certificate with the host's TLSA
// records (RFC 7672 §3): a DANE sender delivers only when one matches.
func daneFindings(d *dane.Result, s *probe.Session) []report.Finding {
	if d == nil || !s.Status.Reached() && s.Status != probe.StatusTLSHandshakeFailed {
		return nil
	}
	h, ok := d.TLSAFor(s.Host)
	if !ok || h.Status != dane.StatusOK || len(h.Records) == 0 {
		return nil
	}
	subj := fmt.Sprintf("%s (%s)", s.Host, s.Addr)
	var recs []string
	for _, r := range h.Records {
		recs = append(recs, r.Raw)
	}
	if s.TLS == nil || s.TLS.Handshake != "ok" {
		why := "the server does not offer STARTTLS"
		if s.TLS != nil {
			why = "the TLS handshake failed: " + s.TLS.HandshakeError
		}
		return []report.Finding{{ID: "smtp.dane-no-tls", Severity: report.Failure, Subject: subj,
			Summary:    "the host publishes DNSSEC-signed TLSA records, but " + why,
			Evidence:   recs,
			Cause:      "DANE senders (RFC 7672 §2.2) require TLS with a matching certificate and will not deliver in clear text",
			Fix:        "enable STARTTLS with the certificate the TLSA records describe, or remove the TLSA records",
			References: []string{"RFC 7672 §2.2"}}}
	}
	chain := s.TLS.Certificates()
	m, reasons := dane.MatchTLSA(h.Records, chain)
	if m != nil && m.Usage == dane.TLSAUsageDANETA {
		// RFC 7672 §3.2.2/§3.2.3: with DANE-TA the chain must still verify
		// up to the matched anchor, name the MX host and be in date.
		switch s.TLS.Problem {
		case "wrong-name", "expired", "not-yet-valid":
			return []report.Finding{{ID: "smtp.dane-ta-invalid", Severity: report.Failure, Subject: subj,
				Summary:    "the chain matches the DANE-TA record " + m.Raw + ", but the certificate is " + strings.ReplaceAll(s.TLS.Problem, "-", " "),
				Evidence:   append(recs, s.TLS.VerifyError),
				Cause:      "with DANE-TA (usage 2) senders still check the host name and validity of the certificate (RFC 7672 §3.2); they will not deliver",
				Fix:        "renew the certificate for the MX host name from the CA the record pins, or publish a DANE-EE (3 1 1) record",
				References: []string{"RFC 7672 §3.2.2", "RFC 7672 §3.2.3"}}}
		}
	}
	if m != nil {
		return []report.Finding{{ID: "smtp.dane-match", Severity: report.OK, Subject: subj,
			Summary:  "the certificate matches the TLSA record " + m.Raw + " (" + m.Mnemonic() + ")",
			Evidence: append(recs, reasons...)}}
	}
	f := report.Finding{ID: "smtp.dane-mismatch", Severity: report.Failure, Subject: subj,
		Summary:    "no TLSA record matches the certificate the server presents: DANE senders will not deliver",
		Evidence:   append(recs, reasons...),
		Cause:      "the certificate (or its key) changed without the TLSA records being updated first (RFC 7671 §8.1: publish the new record, wait the TTL, then change the certificate)",
		Fix:        "publish a TLSA record for the current key (keep the old one until every server uses the new key)",
		References: []string{"RFC 7672 §3", "RFC 7671 §8.1"}}
	if len(chain) > 0 {
		f.Publish = []string{dane.TLSARecordFor(s.Host, 25, chain[0])}
	}
	return []report.Finding{f}
}

// submissionTarget is one submission host and port, and where it came from.
type submissionTarget struct {
	host   string
	port   int
	source string
	// guessed: --submission named the host without a port, so both 587
	// and 465 are tried; a closed one of the two is no fault.
	guessed bool
}

// runSubmission probes mail submission: 587 with STARTTLS and 465 with
// implicit TLS (RFC 8314), on the hosts of _submission._tcp and
// _submissions._tcp SRV records (RFC 6186 §3.1) or --submission. It never
// authenticates: no credentials are tried.
func (env *Env) runSubmission(ctx context.Context, locks *IPLocks, res *SMTPResult) []report.Section {
	sec := report.Section{ID: "submission", Title: "Mail submission (ports 587 and 465)"}
	targets, srvEvidence, lookupFailures := env.srvSubmissionTargets(ctx)
	sec.Add(lookupFailures...)
	targets = append(targets, flagSubmissionTargets(env.Config.SMTP.Submission)...)
	if len(targets) == 0 {
		if len(lookupFailures) == 0 { // "none advertised" only when the lookups said so
			sec.Add(env.noSubmission(srvEvidence))
		}
		return []report.Section{sec}
	}
	sessions := env.probeSubmission(ctx, locks, targets)
	for i, s := range sessions {
		if s == nil {
			continue
		}
		res.Submission = append(res.Submission, s)
		fs := s.Findings(probe.FindingOptions{Now: env.Now(), Submission: true})
		for j := range fs {
			fs[j].ID = strings.Replace(fs[j].ID, "smtp.", "submission.", 1)
			// Clip: findings of one session may share an evidence array (the
			// certificate chain), and appending in place would overwrite a
			// neighbour's lines.
			fs[j].Evidence = append(slices.Clip(fs[j].Evidence), "found by: "+targets[i].source)
			if fs[j].ID == "submission.connection-refused" && targets[i].guessed {
				// Nobody said the port is in use: both were tried.
				fs[j].Severity = report.Info
				fs[j].Summary = fmt.Sprintf("port %d is closed (the connection was refused); it was tried because --submission named the host without a port", targets[i].port)
			}
		}
		sec.Add(fs...)
	}
	sec.Detail = &probe.Detail{Sessions: res.Submission, ShowTranscript: env.Config.SMTP.ShowTranscript}
	return []report.Section{sec}
}

// srvSubmissionTargets are the hosts of the _submissions._tcp (465) and
// _submission._tcp (587) SRV records, by priority; srvEvidence is what
// the lookups returned, failures the lookups that failed.
func (env *Env) srvSubmissionTargets(ctx context.Context) (targets []submissionTarget, srvEvidence []string, failures []report.Finding) {
	for _, q := range []struct {
		name string
		port int
	}{{"_submissions._tcp." + env.Domain, 465}, {"_submission._tcp." + env.Domain, 587}} {
		a := env.Config.Resolver.Lookup(ctx, q.name, dns.TypeSRV)
		srvEvidence = append(srvEvidence, a.Describe())
		srvEvidence = append(srvEvidence, a.Strings()...)
		if a.Failed() {
			failures = append(failures, report.Finding{ID: "submission.srv-lookup-failed", Severity: report.Unknown,
				Summary: "could not look up " + q.name + " SRV: " + a.Status.String(), Evidence: []string{a.Describe()}})
			continue
		}
		recs := make([]*dns.SRV, 0, len(a.Records))
		for _, rr := range a.Records {
			if s, ok := rr.(*dns.SRV); ok {
				recs = append(recs, s)
			}
		}
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Priority < recs[j].Priority })
		for _, s := range recs {
			if s.Target == "." {
				continue // RFC 6186 §4: the service is decidedly not offered
			}
			targets = append(targets, submissionTarget{strings.TrimSuffix(strings.ToLower(s.Target), "."), int(s.Port), "SRV " + q.name, false})
		}
	}
	return targets, srvEvidence, failures
}

// flagSubmissionTargets are the --submission hosts: HOST:PORT, or HOST on
// both 587 and 465.
func flagSubmissionTargets(hosts []string) []submissionTarget {
	var targets []submissionTarget
	for _, h := range hosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			targets = append(targets, submissionTarget{h, 587, "--submission", true}, submissionTarget{h, 465, "--submission", true})
			continue
		}
		p, _ := strconv.Atoi(port)
		targets = append(targets, submissionTarget{host, p, "--submission", false})
	}
	return targets
}

// noSubmission: no submission service is advertised or named.
func (env *Env) noSubmission(srvEvidence []string) report.Finding {
	return report.Finding{ID: "submission.none", Severity: report.Info,
		Summary:    "no submission service is advertised (no RFC 6186 SRV records) and none was named with --submission; not checked",
		Evidence:   srvEvidence,
		Fix:        "optional: publish SRV records so mail clients can configure themselves",
		Publish:    []string{"_submissions._tcp." + env.Domain + ". IN SRV 0 1 465 mail." + env.Domain + ".", "_submission._tcp." + env.Domain + ". IN SRV 0 1 587 mail." + env.Domain + "."},
		References: []string{"RFC 6186 §3.1", "RFC 8314 §5.1"}}
}

// probeSubmission runs one session per target, all at once (the IP
// locks keep one connection per address).
func (env *Env) probeSubmission(ctx context.Context, locks *IPLocks, targets []submissionTarget) []*probe.Session {
	sessions := make([]*probe.Session, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sessions[i] = env.submissionSession(ctx, locks, t)
		}()
	}
	wg.Wait()
	return sessions
}

func (env *Env) submissionSession(ctx context.Context, locks *IPLocks, t submissionTarget) *probe.Session {
	cfg := env.Config.probeConfig("")
	cfg.NoMail = true
	cfg.Mode = probe.ModeSTARTTLS
	if t.port == 465 {
		cfg.Mode = probe.ModeImplicitTLS
	}
	addr := t.host
	if a, err := netip.ParseAddr(t.host); err == nil {
		addr = a.String()
	} else {
		h := dnscheck.LookupHost(ctx, env.Config.Resolver, t.host)
		if len(h.Addrs) == 0 {
			s := &probe.Session{Host: t.host, Port: t.port, Addr: net.JoinHostPort(t.host, strconv.Itoa(t.port)),
				Mode: cfg.Mode, Status: probe.StatusConnectionError,
				Detail: "the host has no address: " + h.A.Describe() + "; " + h.AAAA.Describe()}
			return s
		}
		addr = h.Addrs[0].String()
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		if why := dnscheck.SpecialUse(a); why != "" && !env.Config.SMTP.AllowSpecialUse {
			return &probe.Session{Host: t.host, Port: t.port, Addr: net.JoinHostPort(addr, strconv.Itoa(t.port)),
				Mode: cfg.Mode, Status: probe.StatusConnectionError,
				Detail: "not probed: " + addr + " is not a public address (" + why + ")"}
		}
	}
	return env.dryRunLocked(ctx, locks, cfg, probe.Target{Host: t.host, Addr: net.JoinHostPort(addr, strconv.Itoa(t.port))}, addr)
}
