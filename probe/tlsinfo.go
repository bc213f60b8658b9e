package probe

// TLS on SMTP: STARTTLS (RFC 3207) on ports 25 and 587, implicit TLS on 465
// (RFC 8314 §3.3).
//
// The handshake is made with verification off and the chain verified
// afterwards against the MX host name, so that the outcome is recorded even
// when verification fails: most senders on port 25 use TLS opportunistically
// and deliver over a certificate they cannot verify, while MTA-STS
// (RFC 8461 §4.2) and DANE (RFC 7672) senders do not. A checker must report
// both what the server presents and whether it would pass.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// TLSOptions configure the client side of the handshake.
type TLSOptions struct {
	// RootCAs verify the chain; nil: the system roots.
	RootCAs *x509.CertPool
	// ServerName is the name sent in SNI and verified against the
	// certificate; empty: the target's host name.
	ServerName string
	// MinVersion is the oldest version offered; default TLS 1.0, so that an
	// old server is observed (and reported) rather than failing.
	MinVersion uint16
}

// TLSInfo is the outcome of one TLS handshake.
type TLSInfo struct {
	// Handshake is "ok" or "failed"; HandshakeError says why it failed.
	Handshake      string `json:"handshake"`
	HandshakeError string `json:"handshake_error,omitempty"`
	Version        string `json:"version,omitempty"`
	VersionID      uint16 `json:"-"`
	CipherSuite    string `json:"cipher_suite,omitempty"`
	ServerName     string `json:"server_name"`
	// Chain is the certificates presented, leaf first.
	Chain []CertInfo `json:"chain,omitempty"`
	// Verified is true when the chain verifies against the roots and the
	// leaf matches ServerName at the time of the session.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
	// Problem classifies VerifyError: expired, not-yet-valid, wrong-name,
	// self-signed, chain-incomplete, untrusted, other.
	Problem string `json:"problem,omitempty"`

	certs []*x509.Certificate
}

// Certificates returns the presented chain, leaf first (for DANE matching).
func (t *TLSInfo) Certificates() []*x509.Certificate {
	if t == nil {
		return nil
	}
	return t.certs
}

// CertInfo is what mxray reports about one certificate.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	SHA256     string    `json:"sha256"`
	SelfSigned bool      `json:"self_signed,omitempty"`
}

// tlsConfig is the client configuration for a probe. Verification is done
// by inspect, after the handshake.
func tlsConfig(opt TLSOptions, serverName string) *tls.Config {
	minV := opt.MinVersion
	if minV == 0 {
		minV = tls.VersionTLS10
	}
	return &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // verified in inspect, so that failures are recorded, not fatal
		MinVersion:         minV,
	}
}

// inspectTLS records the handshake outcome and verifies the chain.
func inspectTLS(state tls.ConnectionState, herr error, opt TLSOptions, serverName string, now time.Time) *TLSInfo {
	info := &TLSInfo{ServerName: serverName, Handshake: "ok"}
	if herr != nil {
		info.Handshake = "failed"
		info.HandshakeError = herr.Error()
	}
	if state.Version != 0 {
		info.VersionID = state.Version
		info.Version = tls.VersionName(state.Version)
		info.CipherSuite = tls.CipherSuiteName(state.CipherSuite)
	}
	info.certs = state.PeerCertificates
	for _, c := range state.PeerCertificates {
		sum := sha256.Sum256(c.Raw)
		info.Chain = append(info.Chain, CertInfo{
			Subject: c.Subject.String(), Issuer: c.Issuer.String(), DNSNames: c.DNSNames,
			NotBefore: c.NotBefore, NotAfter: c.NotAfter, SHA256: hex.EncodeToString(sum[:]),
			SelfSigned: selfSigned(c),
		})
	}
	if herr != nil || len(state.PeerCertificates) == 0 {
		return info
	}
	leaf := state.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range state.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: serverName, Roots: opt.RootCAs, Intermediates: inter, CurrentTime: now})
	if err == nil {
		info.Verified = true
		return info
	}
	info.VerifyError = err.Error()
	info.Problem = classifyVerify(err, state.PeerCertificates, opt, now)
	return info
}

// classifyVerify names the first reason a chain fails. A host name mismatch
// is checked by Go after the chain, so the chain is verified again without
// the name to tell "wrong name" from the rest.
func classifyVerify(err error, chain []*x509.Certificate, opt TLSOptions, now time.Time) string {
	leaf := chain[0]
	var inv x509.CertificateInvalidError
	var hn x509.HostnameError
	var ua x509.UnknownAuthorityError
	switch {
	case now.After(leaf.NotAfter):
		return "expired"
	case now.Before(leaf.NotBefore):
		return "not-yet-valid"
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "expired" // an intermediate expired
	case errors.As(err, &hn):
		return "wrong-name"
	case errors.As(err, &ua):
		if len(chain) == 1 && selfSigned(leaf) {
			return "self-signed"
		}
		// The issuer of the last certificate sent is neither sent nor a
		// root: usually a missing intermediate (RFC 8446 §4.4.2 wants the
		// chain up to, but not necessarily including, the root).
		last := chain[len(chain)-1]
		if !selfSigned(last) {
			return "chain-incomplete"
		}
		return "untrusted"
	}
	return "other"
}

func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	// CheckSignatureFrom would insist on a CA certificate; a self-signed
	// server certificate usually is not one.
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// handshakeInfo runs a TLS client handshake on the client's connection and
// returns what it saw.
func (c *Client) handshakeInfo(ctx context.Context, opt TLSOptions, serverName string, now time.Time) (*TLSInfo, error) {
	tc, err := c.handshake(ctx, tlsConfig(opt, serverName))
	return inspectTLS(tc.ConnectionState(), err, opt, serverName, now), err
}

// certNames lists the names a certificate is valid for, for evidence.
func certNames(c CertInfo) string {
	if len(c.DNSNames) == 0 {
		return c.Subject
	}
	return strings.Join(c.DNSNames, ", ")
}
