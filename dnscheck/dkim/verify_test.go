package dkim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
	"github.com/mxray/mxray/report"
)

// testMessage is a marketing message as a platform would send it, with
// LF line ends as a saved .eml usually has.
const testMessage = "From: News <news@example.com>\n" +
	"To: alice@example.net\n" +
	"Subject: Spring offers\n" +
	"Date: Mon, 02 Mar 2026 10:00:00 +0000\n" +
	"Message-ID: <20260302100000.1@mail.example.com>\n" +
	"List-Unsubscribe: <https://example.com/u/opaque-token>\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n" +
	"MIME-Version: 1.0\n" +
	"Content-Type: text/plain; charset=utf-8\n" +
	"\n" +
	"Hello Alice,\n\nour spring offers are here: https://shop.example.com/spring\n"

var signedFields = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

type verifyWorld struct {
	srv             *dnstest.Server
	rsa2048, rsa512 *rsa.PrivateKey
	ed              ed25519.PrivateKey
	edPub           ed25519.PublicKey
}

func newVerifyWorld(t *testing.T) *verifyWorld {
	t.Helper()
	w := &verifyWorld{}
	var err error
	if w.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if w.rsa512, err = rsa.GenerateKey(rand.Reader, 512); err != nil {
		t.Fatal(err)
	}
	if w.edPub, w.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	zone := strings.Join([]string{
		"example.com. 300 IN SOA ns hostmaster 1 3600 600 86400 300",
		testworld.DKIMKeyRecord(t, "rsa._domainkey.example.com.", &w.rsa2048.PublicKey),
		testworld.DKIMKeyRecord(t, "short._domainkey.example.com.", &w.rsa512.PublicKey),
		testworld.DKIMKeyRecord(t, "ed._domainkey.example.com.", w.edPub),
		testworld.TXTRecord("revoked._domainkey.example.com.", "v=DKIM1; k=rsa; p="),
		testworld.DKIMKeyRecord(t, "broken._domainkey.example.com.", &w.rsa2048.PublicKey),
	}, "\n")
	w.srv = dnstest.Start(t, zone)
	w.srv.SetFault("broken._domainkey.example.com.", dns.TypeTXT, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	return w
}

func TestVerifyMessage(t *testing.T) {
	w := newVerifyWorld(t)
	tests := []struct {
		name     string
		msg      func() []byte
		want     SigResult
		reason   string // a part of the reason
		findID   string
		severity report.Severity
	}{
		{"rsa-2048", func() []byte {
			return testworld.DKIMSign(t, testMessage, "example.com", "rsa", w.rsa2048, signedFields)
		},
			SigPass, "", "dkim.signature-pass", report.OK},
		{"ed25519", func() []byte { return testworld.DKIMSign(t, testMessage, "example.com", "ed", w.ed, signedFields) },
			SigPass, "", "dkim.signature-pass", report.OK},
		{"one changed header byte", func() []byte {
			m := testworld.DKIMSign(t, testMessage, "example.com", "rsa", w.rsa2048, signedFields)
			return bytes.Replace(m, []byte("Subject: Spring offers"), []byte("Subject: Spring offerz"), 1)
		}, SigFail, "signature did not verify", "dkim.signature-fail", report.Failure},
		{"one changed body byte", func() []byte {
			m := testworld.DKIMSign(t, testMessage, "example.com", "ed", w.ed, signedFields)
			return bytes.Replace(m, []byte("Hello Alice"), []byte("Hello Alicf"), 1)
		}, SigFail, "body hash", "dkim.signature-fail", report.Failure},
		{"512-bit key", func() []byte {
			return testworld.DKIMSign(t, testMessage, "example.com", "short", w.rsa512, signedFields)
		},
			SigPermError, "too short", "dkim.signature-permerror", report.Failure},
		{"revoked key", func() []byte {
			return testworld.DKIMSign(t, testMessage, "example.com", "revoked", w.rsa2048, signedFields)
		},
			SigPermError, "revoked", "dkim.signature-permerror", report.Failure},
		{"no key record", func() []byte {
			return testworld.DKIMSign(t, testMessage, "example.com", "nosuch", w.rsa2048, signedFields)
		},
			SigPermError, "no key", "dkim.signature-permerror", report.Failure},
		{"key lookup SERVFAIL is temperror, not fail", func() []byte {
			return testworld.DKIMSign(t, testMessage, "example.com", "broken", w.rsa2048, signedFields)
		}, SigTempError, "servfail", "dkim.signature-temperror", report.Unknown},
		{"CRLF line ends", func() []byte {
			return testworld.DKIMSign(t, strings.ReplaceAll(testMessage, "\n", "\r\n"), "example.com", "rsa", w.rsa2048, signedFields)
		}, SigPass, "", "dkim.signature-pass", report.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := VerifyMessage(context.Background(), testworld.Client(t, w.srv), tc.msg())
			if v.Err != "" || len(v.Signatures) != 1 {
				t.Fatalf("verification: %+v", v)
			}
			s := v.Signatures[0]
			if s.Result != tc.want || !strings.Contains(s.Reason, tc.reason) {
				t.Fatalf("result %s (%s), want %s (%q)", s.Result, s.Reason, tc.want, tc.reason)
			}
			if s.Domain != "example.com" || s.Key == nil || !s.Covers("list-unsubscribe-post") || s.Covers("Reply-To") {
				t.Fatalf("signature tags: %+v", s)
			}
			fs := v.Findings()
			if len(fs) != 1 || fs[0].ID != tc.findID || fs[0].Severity != tc.severity {
				t.Fatalf("findings %+v", fs)
			}
		})
	}
}

func TestVerifyMessageUnsignedAndTwoSignatures(t *testing.T) {
	w := newVerifyWorld(t)
	c := testworld.Client(t, w.srv)
	v := VerifyMessage(context.Background(), c, []byte(testMessage))
	if len(v.Signatures) != 0 || v.Findings()[0].ID != "dkim.unsigned" {
		t.Fatalf("unsigned: %+v", v)
	}
	// A second signature added by a platform over the first (as ESPs do),
	// signing only some fields.
	first := testworld.DKIMSign(t, testMessage, "example.com", "ed", w.ed, signedFields)
	both := testworld.DKIMSign(t, string(first), "example.com", "rsa", w.rsa2048, []string{"From", "Subject"})
	v = VerifyMessage(context.Background(), c, both)
	if len(v.Signatures) != 2 || len(v.Passing()) != 2 {
		t.Fatalf("two signatures: %+v", v)
	}
	if v.Signatures[0].Selector != "rsa" || v.Signatures[0].Covers("List-Unsubscribe") || !v.Signatures[1].Covers("List-Unsubscribe") {
		t.Fatalf("order or h= of the signatures: %+v", v.Signatures)
	}
}

// TestVerifyPythonDKIM verifies messages signed by an independent
// implementation, Debian's python3-dkim (dkimpy), installed by
// scripts/install-peers.sh.
func TestVerifyPythonDKIM(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import dkim, nacl").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-dkim is not installed (scripts/install-peers.sh installs it): %v", err)
		}
		t.Skip("PYTHON3-DKIM NOT AVAILABLE: run 'bash scripts/install-peers.sh' as root to test against an independent DKIM signer")
	}
	w := newVerifyWorld(t)
	c := testworld.Client(t, w.srv)
	dir := t.TempDir()
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(w.rsa2048)})
	edSeed := base64.StdEncoding.EncodeToString(w.ed.Seed())
	for _, tc := range []struct {
		name, selector, algo, key string
	}{
		{"rsa-sha256", "rsa", "rsa-sha256", string(rsaPEM)},
		{"ed25519-sha256", "ed", "ed25519-sha256", edSeed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyFile, msgFile := filepath.Join(dir, tc.name+".key"), filepath.Join(dir, tc.name+".eml")
			if err := os.WriteFile(keyFile, []byte(tc.key), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(msgFile, []byte(testMessage), 0o600); err != nil {
				t.Fatal(err)
			}
			script := `import dkim, sys
msg = open(sys.argv[1], "rb").read()
key = open(sys.argv[2], "rb").read()
hdrs = [h.encode() for h in sys.argv[5].split(":")]
sig = dkim.sign(msg, sys.argv[3].encode(), b"example.com", key, signature_algorithm=sys.argv[4].encode(),
    canonicalize=(b"relaxed", b"relaxed"), include_headers=hdrs, linesep=b"\n")
sys.stdout.buffer.write(sig + msg)`
			out, err := exec.Command(python, "-c", script, msgFile, keyFile, tc.selector, tc.algo, strings.Join(signedFields, ":")).Output()
			if err != nil {
				t.Fatalf("python3-dkim sign: %v", err)
			}
			v := VerifyMessage(context.Background(), c, out)
			if len(v.Signatures) != 1 || v.Signatures[0].Result != SigPass || !v.Signatures[0].Covers("List-Unsubscribe-Post") {
				t.Fatalf("python3-dkim's %s signature: %+v\n%s", tc.algo, v, out)
			}
			// One changed header byte breaks it.
			broken := bytes.Replace(out, []byte("To: alice@"), []byte("To: alicf@"), 1)
			v = VerifyMessage(context.Background(), c, broken)
			if v.Signatures[0].Result != SigFail {
				t.Fatalf("changed To: still %s", v.Signatures[0].Result)
			}
		})
	}
}

func TestWireForm(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb\n":     "a\r\nb\r\n",
		"a\r\nb\n":   "a\r\nb\r\n",
		"\n":         "\r\n",
		"no newline": "no newline",
	} {
		if got := string(wireForm([]byte(in))); got != want {
			t.Errorf("wireForm(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVerifyHeaderOnlyMessage: a message may end after its header (RFC
// 5322 §3.5: the body is optional, and so is the empty line before it);
// its signatures are verified, not reported as unreadable.
func TestVerifyHeaderOnlyMessage(t *testing.T) {
	w := newVerifyWorld(t)
	c := testworld.Client(t, w.srv)
	header, _, _ := strings.Cut(testMessage, "\n\n")
	signed := testworld.DKIMSign(t, header+"\n\n", "example.com", "rsa", w.rsa2048, signedFields)
	for name, msg := range map[string][]byte{
		"LF, last field ended":  bytes.TrimSuffix(signed, []byte("\n")),
		"CRLF, last field open": bytes.TrimSuffix(bytes.ReplaceAll(wireForm(signed), []byte("\r\n\r\n"), []byte("\r\n")), []byte("\r\n")),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Contains(wireForm(msg), []byte("\r\n\r\n")) {
				t.Fatalf("the test message still has an empty line: %q", msg)
			}
			v := VerifyMessage(context.Background(), c, msg)
			if v.Err != "" || len(v.Signatures) != 1 || v.Signatures[0].Result != SigPass {
				t.Fatalf("header-only message: %+v", v)
			}
			// One changed header byte still breaks it.
			v = VerifyMessage(context.Background(), c, bytes.Replace(msg, []byte("Subject: Spring offers"), []byte("Subject: Spring offerz"), 1))
			if v.Err != "" || len(v.Signatures) != 1 || v.Signatures[0].Result != SigFail {
				t.Fatalf("changed header-only message: %+v", v)
			}
		})
	}
}
