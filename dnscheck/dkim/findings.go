package dkim

// The judgement of DKIM key records.

import (
	"fmt"
	"strings"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/report"
)

const (
	refDKIMKey = "RFC 6376 §3.6.1"
	refDKIMRSA = "RFC 8301 §3.2"
)

// evidence lists the selector's lookup and each TXT record as received,
// with its character-strings, so that a badly split record shows.
func (s Selector) evidence() []string {
	line := fmt.Sprintf("%s TXT: %s", s.Name, s.Status)
	if len(s.CNAMEs) > 0 {
		line += " (via CNAME " + strings.Join(s.CNAMEs, " → ") + ")"
	}
	ev := []string{line}
	if s.Answer.Failed() && s.Answer.Err != nil {
		ev = append(ev, "    "+s.Answer.Describe())
	}
	for i, parts := range s.Strings {
		if len(parts) > 1 {
			q := make([]string, len(parts))
			for j, p := range parts {
				q[j] = "\"" + p + "\""
			}
			ev = append(ev, fmt.Sprintf("    %d strings, joined without separator: %s", len(parts), strings.Join(q, " ")))
		}
		ev = append(ev, "    \""+s.Records[i]+"\"")
	}
	return ev
}

// keyTemplate is the shape of the record to publish when the key itself is
// unknown to mxray: it lives in the signer's configuration.
func keyTemplate(name string) string {
	return name + " 3600 IN TXT \"v=DKIM1; k=rsa; p=<the base64 public key of your signer's 2048-bit key>\""
}

// Findings judges the looked-up selectors.
func (d *Result) Findings() []report.Finding {
	fs, tally := d.selectorFindings()
	fs = append(fs, d.ed25519OnlyFindings()...)
	fs = append(fs, d.notKeyFindings(tally.notKeys)...)
	if len(tally.failedGuesses) > 0 {
		fs = append(fs, d.guessesFailedFinding(tally.failedGuesses))
	}
	if d.Guessed && tally.failed < len(d.Selectors) {
		fs = append(fs, d.guessedFinding(tally))
	}
	return fs
}

// selectorTally is what the selector lookups came to, for the findings about
// the selectors as a whole.
type selectorTally struct {
	found, failed int
	tried         []string   // every selector name looked up, in order
	notKeys       []Selector // guessed names answered by a TXT that is no key
	failedGuesses []Selector // guessed names whose lookup failed
}

// selectorFindings judges each selector in turn: a failed lookup, a given
// selector without a key, or the key of one that has a record.
func (d *Result) selectorFindings() ([]report.Finding, selectorTally) {
	var fs []report.Finding
	var t selectorTally
	for _, s := range d.Selectors {
		t.tried = append(t.tried, s.Selector)
		switch {
		case s.Answer.Failed() && !s.Given:
			// A guessed name may not exist at all: its failure is one line
			// of a summary, not a finding of its own.
			t.failed++
			t.failedGuesses = append(t.failedGuesses, s)
		case s.Answer.Failed():
			t.failed++
			fs = append(fs, report.Finding{ID: "dkim.lookup-failed", Severity: report.Unknown, Subject: s.Selector,
				Summary:  "could not look up the DKIM key of selector " + s.Selector + ": " + s.Status,
				Evidence: s.evidence(),
				Cause:    "the resolver gave no definite answer; the key may well exist. Verifiers meeting this error return temperror",
				Fix:      "retry; if it persists, check the nameservers serving " + s.Name})
		case !s.Found():
			if !s.Given {
				continue // a guessed selector that does not exist says nothing
			}
			fs = append(fs, report.Finding{ID: "dkim.selector-missing", Severity: report.Failure, Subject: s.Selector,
				Summary:  "no DKIM key at " + s.Name + " (" + s.Status + "): mail signed with s=" + s.Selector + " fails DKIM",
				Evidence: s.evidence(),
				Cause:    "verifiers look the key up at <selector>._domainkey.<d= domain>; without it every signature with this selector is permfail",
				Fix: "publish the public key your signer uses for this selector (your provider shows it, often as a CNAME to its own zone); " +
					"its shape is: " + keyTemplate(s.Name),
				References: []string{"RFC 6376 §3.6.2.1", "RFC 6376 §6.1.2"}})
		case !s.Given && s.KeyErr != "":
			// A guessed name answered with something that is not a DKIM key:
			// typically a wildcard TXT record. Not a selector in use.
			t.notKeys = append(t.notKeys, s)
		default:
			t.found++
			fs = append(fs, s.keyFindings()...)
		}
	}
	return fs, t
}

// ed25519OnlyFindings reports ed25519 keys without an RSA key beside them:
// verifiers that know only RSA see no valid signature.
func (d *Result) ed25519OnlyFindings() []report.Finding {
	var ed, rsaKeys []string
	for _, s := range d.Selectors {
		if k := s.Key; k != nil && s.KeyErr == "" && k.KeyErr == "" && !k.Revoked {
			if k.KeyType == "ed25519" {
				ed = append(ed, s.Selector)
			} else {
				rsaKeys = append(rsaKeys, s.Selector)
			}
		}
	}
	if len(ed) == 0 || len(rsaKeys) != 0 {
		return nil
	}
	return []report.Finding{{ID: "dkim.ed25519-only", Severity: report.Info,
		Summary:    "only ed25519 keys were found (" + strings.Join(ed, ", ") + "): verifiers that do not support ed25519 yet need an RSA signature as well",
		Cause:      "RFC 8463 §1 expects signers to add an RSA signature beside the ed25519 one while verifiers catch up",
		Fix:        "sign with a 2048-bit RSA key too, under its own selector (if you already do, check it with --selector)",
		References: []string{"RFC 8463 §1"}}}
}

// notKeyFindings reports guessed selector names that answer with TXT records
// that are not DKIM keys, typically because of a wildcard TXT record.
func (d *Result) notKeyFindings(notKeys []Selector) []report.Finding {
	if len(notKeys) == 0 {
		return nil
	}
	ev := []string{}
	for _, s := range notKeys {
		ev = append(ev, s.Name+" TXT \""+s.Records[0]+"\"")
	}
	return []report.Finding{{ID: "dkim.guessed-not-keys", Severity: report.Info,
		Summary:  fmt.Sprintf("%d guessed selector names answer with TXT records that are not DKIM keys (a wildcard TXT record?); they are ignored", len(notKeys)),
		Evidence: ev,
		Cause:    "a wildcard TXT record (*." + d.Domain + ") answers every name, including every possible selector"}}
}

// guessedFinding sums up a search among common selector names: which of them
// have a record, or that none has, which proves nothing.
func (d *Result) guessedFinding(t selectorTally) report.Finding {
	if t.found == 0 {
		answered := fmt.Sprintf("%d common DKIM selectors", len(d.Selectors))
		if t.failed > 0 {
			answered = fmt.Sprintf("the %d common DKIM selectors that could be looked up (%d lookups failed)", len(d.Selectors)-t.failed, t.failed)
		}
		return report.Finding{ID: "dkim.none-guessed", Severity: report.Info,
			Summary:    fmt.Sprintf("none of %s has a key at %s; this proves nothing: selectors are arbitrary names, give yours with --selector", answered, d.Domain),
			Evidence:   []string{"tried: " + strings.Join(t.tried, ", ")},
			Cause:      "a DKIM key can only be found by its selector, which appears in the s= tag of the DKIM-Signature header of a signed message",
			Fix:        "look at the DKIM-Signature header of a message you sent (s= and d=) and run mxray dkim " + d.Domain + " --selector S",
			References: []string{"RFC 6376 §3.1"}}
	}
	var names []string
	for _, s := range d.Selectors {
		if s.Found() && (s.Given || s.KeyErr == "") {
			names = append(names, s.Selector)
		}
	}
	return report.Finding{ID: "dkim.guessed", Severity: report.Info,
		Summary:  fmt.Sprintf("%d of %d common selectors tried have a record: %s (other selectors may exist; absence of a guessed selector proves nothing)", t.found, len(d.Selectors), strings.Join(names, ", ")),
		Evidence: []string{"tried: " + strings.Join(t.tried, ", ")}}
}

// guessesFailedFinding: lookups of guessed selectors that failed
// (SERVFAIL, timeout, an untrusted resolver), as one unknown finding: they
// say nothing about keys that exist, and one line each would bury the
// report.
func (d *Result) guessesFailedFinding(failed []Selector) report.Finding {
	var names, ev []string
	for _, s := range failed {
		names = append(names, s.Selector)
		ev = append(ev, s.Answer.Describe())
	}
	return report.Finding{ID: "dkim.guessed-lookups-failed", Severity: report.Unknown,
		Summary:  fmt.Sprintf("%d of %d common DKIM selectors could not be looked up (%s): whether keys exist under them is not known", len(failed), len(d.Selectors), failed[0].Status),
		Evidence: append([]string{"failed: " + strings.Join(names, ", ")}, ev[:min(len(ev), 5)]...),
		Cause:    "the resolver gave no definite answer for these names",
		Fix:      "retry; if it persists, check the nameservers of " + d.Domain + ", or give your selector with --selector"}
}

// keyFindings judges one selector that has a record.
func (s Selector) keyFindings() []report.Finding {
	ev := s.evidence()
	fs := s.recordFindings(ev)
	if s.KeyErr != "" || s.Key == nil {
		return append(fs, s.invalidRecordFinding(ev))
	}
	fs = append(fs, s.keySyntaxFindings(ev)...)
	if f, unusable := s.unusableKeyFinding(ev); unusable {
		return append(fs, f)
	}
	fs = append(fs, s.keySizeFinding(ev))
	fs = append(fs, s.pkcs1Findings(ev)...)
	fs = append(fs, s.keyRestrictionFindings(ev)...)
	fs = append(fs, s.keyFlagFindings(ev)...)
	fs = append(fs, s.unknownTagFindings(ev)...)
	return fs
}

// recordFindings judges the selector's record(s) before the key in them:
// several TXT records, and a key delegated by CNAME.
func (s Selector) recordFindings(ev []string) []report.Finding {
	sub := s.Selector
	var fs []report.Finding
	if len(s.Records) > 1 {
		fs = append(fs, report.Finding{ID: "dkim.multiple-records", Severity: report.Warning, Subject: sub,
			Summary:    fmt.Sprintf("%d TXT records at %s: verifiers may pick any of them", len(s.Records), s.Name),
			Evidence:   ev,
			Cause:      "a selector must have exactly one key record; with several, verification results are undefined",
			Fix:        "delete all but the current key record",
			Publish:    []string{s.Name + " 3600 IN TXT " + dnscheck.QuoteTXT(s.Records[0])},
			References: []string{"RFC 6376 §3.6.2.2"}})
	}
	if len(s.CNAMEs) > 0 {
		fs = append(fs, report.Finding{ID: "dkim.cname", Severity: report.Info, Subject: sub,
			Summary:  "the key of " + sub + " is delegated by CNAME to " + s.CNAMEs[len(s.CNAMEs)-1],
			Evidence: ev,
			Cause:    "a provider that rotates keys asks for a CNAME to its own zone; the key is whatever it publishes there"})
	}
	return fs
}

// invalidRecordFinding reports a record that is not a DKIM key record at all.
func (s Selector) invalidRecordFinding(ev []string) report.Finding {
	return report.Finding{ID: "dkim.invalid-record", Severity: report.Failure, Subject: s.Selector,
		Summary:    "the record at " + s.Name + " is not a usable DKIM key: " + s.KeyErr,
		Evidence:   ev,
		Cause:      "verifiers discard a key record that starts with a v= other than DKIM1 or that has no p= tag; signatures with this selector fail",
		Fix:        "publish the key as v=DKIM1; k=rsa; p=<base64 key>, or remove the record",
		References: []string{refDKIMKey}}
}

// keySyntaxFindings reports each syntax error in the key record.
func (s Selector) keySyntaxFindings(ev []string) []report.Finding {
	k := s.Key
	var fs []report.Finding
	for _, e := range k.Errors {
		fs = append(fs, report.Finding{ID: "dkim.syntax", Severity: report.Warning, Subject: s.Selector,
			Summary:    fmt.Sprintf("syntax error in the key record at column %d: %s", e.Pos+1, e.Msg),
			Evidence:   append(ev, "    "+k.Raw, "    "+strings.Repeat(" ", e.Pos)+"^"),
			Cause:      "RFC 6376 §3.2: a malformed tag list may make verifiers reject the whole record",
			Fix:        "correct the record",
			References: []string{"RFC 6376 §3.2"}})
	}
	return fs
}

// unusableKeyFinding reports a key that no signature can be verified with:
// revoked (empty p=) or undecodable. unusable is false for any other key.
func (s Selector) unusableKeyFinding(ev []string) (f report.Finding, unusable bool) {
	k, sub := s.Key, s.Selector
	if k.Revoked {
		sev, fix := report.Info, "nothing, if no mail is signed with this selector any more"
		if s.Given {
			sev, fix = report.Failure, "if mail is still signed with s="+sub+", switch the signer to a selector with a live key"
		}
		return report.Finding{ID: "dkim.revoked", Severity: sev, Subject: sub,
			Summary:    "the key of selector " + sub + " is revoked (empty p=): signatures with it fail",
			Evidence:   ev,
			Cause:      "an empty p= is how a key is withdrawn after rotation",
			Fix:        fix,
			References: []string{refDKIMKey}}, true
	}
	if k.KeyErr != "" {
		return report.Finding{ID: "dkim.bad-key", Severity: report.Failure, Subject: sub,
			Summary:    "the key of selector " + sub + " cannot be used: " + k.KeyErr,
			Evidence:   ev,
			Cause:      "a key verifiers cannot decode makes every signature with this selector fail (permfail)",
			Fix:        "republish the public key exactly as the signer exports it (base64 DER for rsa, the bare 32-octet key for ed25519), with nothing cut off when the record was split into strings",
			Publish:    nil,
			References: []string{refDKIMKey, "RFC 8463 §4.2"}}, true
	}
	return report.Finding{}, false
}

// keySizeFinding judges the key's type and size: RSA keys under 1024 bits
// fail, under 2048 are weak, over 4096 may not be verified (RFC 8301 §3.2).
func (s Selector) keySizeFinding(ev []string) report.Finding {
	k, sub := s.Key, s.Selector
	desc := fmt.Sprintf("%s %d-bit", k.KeyType, k.Bits)
	if k.KeyType == "ed25519" {
		desc = "ed25519"
	}
	switch {
	case k.KeyType == "rsa" && k.Bits < 1024:
		return report.Finding{ID: "dkim.rsa-too-short", Severity: report.Failure, Subject: sub,
			Summary:    fmt.Sprintf("the RSA key of selector %s has %d bits: verifiers must not accept keys under 1024 bits, and such keys can be factored", sub, k.Bits),
			Evidence:   ev,
			Cause:      "RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits; verifiers treat shorter keys as failing",
			Fix:        "generate a 2048-bit key (e.g. openssl genrsa 2048), configure the signer with it under a new selector, publish the new public key, then revoke this one with an empty p=",
			Publish:    []string{keyTemplate(s.Name)},
			References: []string{refDKIMRSA}}
	case k.KeyType == "rsa" && k.Bits < 2048:
		return report.Finding{ID: "dkim.rsa-1024", Severity: report.Warning, Subject: sub,
			Summary:    fmt.Sprintf("the RSA key of selector %s has %d bits: accepted today, but weak; 2048 is recommended", sub, k.Bits),
			Evidence:   ev,
			Cause:      "RFC 8301 §3.2 sets 1024 as the minimum and recommends at least 2048",
			Fix:        "rotate to a 2048-bit key under a new selector",
			References: []string{refDKIMRSA}}
	case k.KeyType == "rsa" && k.Bits > 4096:
		return report.Finding{ID: "dkim.rsa-too-long", Severity: report.Warning, Subject: sub,
			Summary:    fmt.Sprintf("the RSA key of selector %s has %d bits: verifiers are only required to handle up to 4096", sub, k.Bits),
			Evidence:   ev,
			Fix:        "use a 2048-bit key",
			References: []string{refDKIMRSA}}
	default:
		return report.Finding{ID: "dkim.key", Severity: report.OK, Subject: sub,
			Summary: fmt.Sprintf("selector %s has a valid %s key", sub, desc)}
	}
}

// pkcs1Findings reports an RSA key published as a bare PKCS#1 RSAPublicKey.
func (s Selector) pkcs1Findings(ev []string) []report.Finding {
	if !s.Key.PKCS1 {
		return nil
	}
	sub := s.Selector
	return []report.Finding{{ID: "dkim.rsa-pkcs1", Severity: report.Info, Subject: sub,
		Summary:    "the RSA key of " + sub + " is a bare PKCS#1 RSAPublicKey, not a SubjectPublicKeyInfo; most verifiers accept it, strict ones may not",
		Evidence:   ev,
		Fix:        "export the public key with openssl rsa -pubout (SubjectPublicKeyInfo)",
		References: []string{refDKIMKey}}}
}

// keyRestrictionFindings judges what the key may be used for: the hash
// algorithms of h= and the service types of s=.
func (s Selector) keyRestrictionFindings(ev []string) []report.Finding {
	k, sub := s.Key, s.Selector
	var fs []report.Finding
	if len(k.Hashes) > 0 {
		if !hasFold(k.Hashes, "sha256") {
			fs = append(fs, report.Finding{ID: "dkim.hash-no-sha256", Severity: report.Failure, Subject: sub,
				Summary:    "h=" + strings.Join(k.Hashes, ":") + " does not allow sha256: no signature that verifiers accept can be made with this key",
				Evidence:   ev,
				Cause:      "h= restricts the hash algorithms of signatures using the key; RFC 8301 §3.1 forbids sha1, and sha256 is the only other one defined (RFC 6376 §3.3, RFC 8463)",
				Fix:        "remove h= (all algorithms allowed) or set h=sha256, and sign with rsa-sha256",
				References: []string{"RFC 8301 §3.1"}})
		}
	}
	if !k.ForEmail() {
		fs = append(fs, report.Finding{ID: "dkim.service-type", Severity: report.Failure, Subject: sub,
			Summary:    "s=" + strings.Join(k.Services, ":") + " does not include email or *: verifiers must not use this key for mail",
			Evidence:   ev,
			Fix:        "remove s= or set s=email",
			References: []string{refDKIMKey}})
	}
	return fs
}

// keyFlagFindings reports the flags of t=: y (testing) and s (strict
// domain).
func (s Selector) keyFlagFindings(ev []string) []report.Finding {
	k, sub := s.Key, s.Selector
	var fs []report.Finding
	if k.Testing() {
		// Info: t=y changes only how a failing signature is treated (as
		// unsigned, RFC 6376 §3.6.1); a passing one counts all the same.
		fs = append(fs, report.Finding{ID: "dkim.testing", Severity: report.Info, Subject: sub,
			Summary:    "t=y: the domain is testing DKIM; verifiers treat signed mail as if unsigned when the signature fails",
			Evidence:   ev,
			Cause:      "t=y asks verifiers not to treat failed signatures differently from unsigned mail",
			Fix:        "remove t=y once signing works",
			References: []string{refDKIMKey}})
	}
	if k.StrictDomain() {
		fs = append(fs, report.Finding{ID: "dkim.strict-domain", Severity: report.Info, Subject: sub,
			Summary:    "t=s: signatures with this key must have an i= domain equal to d=, not a subdomain",
			Evidence:   ev,
			References: []string{refDKIMKey}})
	}
	return fs
}

// unknownTagFindings reports tags of the key record that verifiers ignore.
func (s Selector) unknownTagFindings(ev []string) []report.Finding {
	var fs []report.Finding
	for _, t := range s.Key.Unknown {
		fs = append(fs, report.Finding{ID: "dkim.unknown-tag", Severity: report.Info, Subject: s.Selector,
			Summary:    fmt.Sprintf("unknown tag %s= at column %d in the key record; verifiers ignore it", t.Name, t.Pos+1),
			Evidence:   ev,
			References: []string{refDKIMKey}})
	}
	return fs
}

// DetailLines lists each selector that has a record, with its key.
func (d *Result) DetailLines() []string {
	var lines []string
	for _, s := range d.Selectors {
		if !s.Found() && s.Answer.Status != dnscheck.StatusServFail && s.Answer.Status != dnscheck.StatusTimeout && !s.Given {
			continue
		}
		line := fmt.Sprintf("%-40s %s", s.Name, s.Status)
		if k := s.Key; k != nil {
			switch {
			case s.KeyErr != "":
				line += "  invalid: " + s.KeyErr
			case k.Revoked:
				line += "  revoked (p= empty)"
			case k.KeyErr != "":
				line += "  " + k.KeyType + ", unusable key"
			case k.KeyType == "ed25519":
				line += "  ed25519"
			default:
				line += fmt.Sprintf("  %s %d bits", k.KeyType, k.Bits)
			}
			if len(k.Flags) > 0 {
				line += " t=" + strings.Join(k.Flags, ":")
			}
		}
		lines = append(lines, line)
	}
	if d.Guessed {
		lines = append(lines, fmt.Sprintf("(%d common selectors tried; a selector not on the list cannot be found without --selector)", len(d.Selectors)))
	}
	return lines
}
