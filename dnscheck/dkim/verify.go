package dkim

// Verification of the DKIM signatures of a message, as a receiver does it
// (RFC 6376 §6): for each DKIM-Signature field, fetch the key named by d=
// and s= (§6.1.2), check the body hash (§6.1.3) and the signature over the
// header fields listed in h= (§3.7), and say pass, fail, permerror or
// temperror (the result names of RFC 8601 §2.7.1).
//
// The cryptography and canonicalization (§3.4) are github.com/emersion/
// go-msgauth's: a well-kept implementation used by mail servers (maddy,
// among others) whose verifier already follows RFC 8301 (no rsa-sha1, no RSA
// key under 1024 bits) and RFC 8463 (ed25519). Writing canonicalization again
// would only add bugs. What mxray adds is the DNS: the key lookup goes
// through mxray's own resolver (--resolver, the per-run cache, the trace, the
// test world), and a lookup that failed is temperror — unknown — never a
// failing signature: a SERVFAIL says nothing about the key.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/report/message"
)

// SigResult is the verification result of one signature (RFC 8601 §2.7.1).
type SigResult string

const (
	SigPass      SigResult = "pass"      // the signature verifies
	SigFail      SigResult = "fail"      // it does not: the body hash or the signature does not match
	SigPermError SigResult = "permerror" // it cannot be verified: malformed, no key, revoked, short key, expired
	SigTempError SigResult = "temperror" // the key lookup failed: unknown, retry
)

// MaxSignatures bounds the signatures verified in one message (hostile
// input); the rest are counted, not verified.
const MaxSignatures = 10

// Signature is one DKIM-Signature field and its verification.
type Signature struct {
	Field            string    `json:"field"` // the field value as received, unfolded
	Domain           string    `json:"d"`
	Selector         string    `json:"s"`
	Algorithm        string    `json:"a"`
	Canonicalization string    `json:"c,omitempty"`
	Identifier       string    `json:"i,omitempty"`
	SignedHeaders    []string  `json:"h"`
	BodyLength       bool      `json:"l,omitempty"` // an l= tag: part of the body may be unsigned
	Result           SigResult `json:"result"`
	Reason           string    `json:"reason,omitempty"`
	// Key is the key record at s=._domainkey.d=, from the same lookup the
	// verifier used.
	Key *Selector `json:"key,omitempty"`
}

// Covers reports whether the signature's h= names the header field; field
// names compare case-insensitively (RFC 6376 §3.5).
func (s Signature) Covers(field string) bool {
	for _, h := range s.SignedHeaders {
		if strings.EqualFold(h, field) {
			return true
		}
	}
	return false
}

// Verification is the verification of every signature of a message.
type Verification struct {
	Signatures []Signature `json:"signatures"`
	// Ignored counts signatures past MaxSignatures.
	Ignored int `json:"ignored,omitempty"`
	// Err says why the message could not be verified at all (no header).
	Err string `json:"error,omitempty"`
}

// Passing returns the signatures that verify.
func (v *Verification) Passing() []Signature {
	var out []Signature
	for _, s := range v.Signatures {
		if s.Result == SigPass {
			out = append(out, s)
		}
	}
	return out
}

// VerifyMessage verifies every DKIM signature of msg (the message as saved,
// with CRLF or LF line ends), looking the keys up through r.
func VerifyMessage(ctx context.Context, r dnscheck.Resolver, msg []byte) *Verification {
	v := &Verification{}
	fields := signatureFields(msg)
	if len(fields) == 0 {
		return v
	}
	if len(fields) > MaxSignatures {
		v.Ignored = len(fields) - MaxSignatures
		fields = fields[:MaxSignatures]
	}
	m := dnscheck.NewMemo(r)
	opts := &msgauth.VerifyOptions{LookupTXT: keyLookup(ctx, m), MaxVerifications: MaxSignatures}
	verifs, err := msgauth.VerifyWithOptions(bytes.NewReader(endHeader(wireForm(msg))), opts)
	if err != nil && err != msgauth.ErrTooManySignatures {
		v.Err = trimPrefix(err)
		return v
	}
	for i, f := range fields {
		s := parseSignature(f)
		if i < len(verifs) {
			s.Result, s.Reason = verdict(verifs[i].Err)
		} else {
			s.Result, s.Reason = SigPermError, "not verified"
		}
		if s.Domain != "" && ValidSelector(s.Selector) == nil {
			k := LookupSelector(ctx, m, s.Domain, s.Selector)
			s.Key = &k
		}
		v.Signatures = append(v.Signatures, s)
	}
	return v
}

// signatureFields returns the DKIM-Signature field values in header order,
// the order in which go-msgauth reports its verifications.
func signatureFields(msg []byte) []string {
	m := message.ParseMessage(msg, message.DefaultLimits)
	if m.Root == nil {
		return nil
	}
	return m.Root.Header.Values("DKIM-Signature")
}

// wireForm gives every line a CRLF end, as the message has in SMTP
// (RFC 5321 §2.3.8) and as the signer hashed it (RFC 6376 §3.4); a message
// saved to a file often has bare LFs.
func wireForm(msg []byte) []byte {
	if !bytes.Contains(msg, []byte("\n")) {
		return msg
	}
	out := make([]byte, 0, len(msg)+bytes.Count(msg, []byte("\n")))
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// endHeader ends the header with the empty line a message without a body
// lacks: RFC 5322 §3.5 makes the body optional ("fields [CRLF body]"), so
// a message may stop after its last field, while go-msgauth reads the
// header up to an empty line. An absent body and an empty one hash alike
// (RFC 6376 §3.4.3 and §3.4.4), so the signatures verify as they were
// made. msg is in wire form.
func endHeader(msg []byte) []byte {
	if bytes.HasPrefix(msg, []byte("\r\n")) || bytes.Contains(msg, []byte("\r\n\r\n")) {
		return msg
	}
	out := append([]byte(nil), msg...)
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, "\r\n"...)
	}
	return append(out, "\r\n"...)
}

// keyLookup answers go-msgauth's TXT queries through the resolver: a
// failed lookup is a temporary net.Error (temperror), a missing record a
// permanent one (permerror "no key").
func keyLookup(ctx context.Context, r dnscheck.Resolver) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		ans := r.Lookup(ctx, name, dns.TypeTXT)
		switch {
		case ans.Failed():
			return nil, &net.DNSError{Err: ans.Describe(), Name: name, IsTemporary: true,
				IsTimeout: ans.Status == dnscheck.StatusTimeout}
		case ans.Missing():
			return nil, &net.DNSError{Err: "no key record (" + ans.Status.String() + ")", Name: name, IsNotFound: true}
		}
		return dnscheck.TXTStrings(ans), nil
	}
}

// verdict maps go-msgauth's error to the RFC 8601 result.
func verdict(err error) (SigResult, string) {
	switch {
	case err == nil:
		return SigPass, ""
	case msgauth.IsTempFail(err):
		return SigTempError, trimPrefix(err)
	case msgauth.IsPermFail(err):
		return SigPermError, trimPrefix(err)
	}
	return SigFail, trimPrefix(err)
}

func trimPrefix(err error) string { return strings.TrimPrefix(err.Error(), "dkim: ") }

// parseSignature reads the tags of a DKIM-Signature field (RFC 6376 §3.5)
// for the report; go-msgauth judges them.
func parseSignature(field string) Signature {
	s := Signature{Field: field}
	tags, _ := dnscheck.ParseTagList(field)
	for _, t := range tags {
		v := dnscheck.RemoveWSP(t.Value)
		switch t.Name {
		case "d":
			s.Domain = strings.ToLower(strings.TrimSuffix(v, "."))
		case "s":
			s.Selector = strings.ToLower(v)
		case "a":
			s.Algorithm = v
		case "c":
			s.Canonicalization = v
		case "i":
			s.Identifier = v
		case "h":
			s.SignedHeaders = splitColon(v)
		case "l":
			s.BodyLength = true
		}
	}
	return s
}

// Describe is one line about the signature: its domain, selector and algorithm.
func (s Signature) Describe() string {
	return fmt.Sprintf("d=%s s=%s a=%s", orDash(s.Domain), orDash(s.Selector), orDash(s.Algorithm))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Findings judges the verification: one finding per signature, or one for
// a message that has none.
func (v *Verification) Findings() []report.Finding {
	refs := []string{"RFC 6376 §6", "RFC 8601 §2.7.1"}
	if v.Err != "" {
		return []report.Finding{{ID: "dkim.message-unreadable", Severity: report.Unknown,
			Summary: "the DKIM signatures could not be verified: " + v.Err, References: refs}}
	}
	if len(v.Signatures) == 0 {
		return []report.Finding{{ID: "dkim.unsigned", Severity: report.Failure,
			Summary:    "the message has no DKIM-Signature field",
			Cause:      "receivers see no DKIM result; Gmail, Yahoo and Microsoft require DKIM of bulk senders",
			Fix:        "turn on DKIM signing with your own domain (d= the From domain) in the sending platform",
			References: refs}}
	}
	var fs []report.Finding
	for _, s := range v.Signatures {
		fs = append(fs, s.finding(refs))
	}
	if v.Ignored > 0 {
		fs = append(fs, report.Finding{ID: "dkim.too-many-signatures", Severity: report.Warning,
			Summary: fmt.Sprintf("%d more DKIM signatures were not verified (at most %d are)", v.Ignored, MaxSignatures)})
	}
	return fs
}

func (s Signature) finding(refs []string) report.Finding {
	f := report.Finding{Subject: s.Domain + "/" + s.Selector, References: refs,
		Evidence: []string{s.Describe() + " c=" + orDash(s.Canonicalization), "h=" + strings.Join(s.SignedHeaders, ":")}}
	if s.Key != nil {
		f.Evidence = append(f.Evidence, s.Key.evidence()...)
	}
	switch s.Result {
	case SigPass:
		f.ID, f.Severity = "dkim.signature-pass", report.OK
		f.Summary = "the DKIM signature " + s.Describe() + " verifies"
	case SigTempError:
		f.ID, f.Severity = "dkim.signature-temperror", report.Unknown
		f.Summary = "the DKIM signature " + s.Describe() + " could not be verified: " + s.Reason
		f.Cause = "the key lookup failed; receivers meeting this return temperror and may defer the message"
		f.Fix = "retry; if it persists, check the nameservers of " + s.Selector + "._domainkey." + s.Domain
	case SigFail:
		f.ID, f.Severity = "dkim.signature-fail", report.Failure
		f.Summary = "the DKIM signature " + s.Describe() + " does not verify: " + s.Reason
		f.Cause = "the message was changed after signing, or signed with another key than the one published"
		f.Fix = "send a fresh test message and save it without editing; make sure the published key matches the signer's private key"
	default:
		f.ID, f.Severity = "dkim.signature-permerror", report.Failure
		f.Summary = "the DKIM signature " + s.Describe() + " cannot be verified: " + s.Reason
		f.Cause = "receivers treat a signature that cannot be verified like no signature (RFC 6376 §6.1)"
		f.Fix = "publish a valid key of at least 1024 bits (2048 recommended) at " + s.Selector + "._domainkey." + s.Domain + " and sign with rsa-sha256 or ed25519-sha256"
	}
	return f
}
