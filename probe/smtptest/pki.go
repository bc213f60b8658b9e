package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// PKI is a test certificate authority: a root and an intermediate, both
// made in the test.
type PKI struct {
	t        testing.TB
	root     *x509.Certificate
	rootKey  *ecdsa.PrivateKey
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
	serial   int64
}

// NewPKI makes a root CA and an intermediate CA.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{t: t, serial: 1}
	now := time.Now()
	p.root, p.rootKey = p.make(&x509.Certificate{Subject: pkix.Name{CommonName: "mxray test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour * 3650),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	p.inter, p.interKey = p.make(&x509.Certificate{Subject: pkix.Name{CommonName: "mxray test intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour * 365),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, p.root, p.rootKey)
	return p
}

func (p *PKI) make(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		p.t.Fatal(err)
	}
	return c, key
}

// Pool is a certificate pool holding the root only.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

// CertOptions describe a server certificate.
type CertOptions struct {
	DNSNames  []string
	NotBefore time.Time // zero: an hour ago
	NotAfter  time.Time // zero: in 90 days
	// SelfSigned makes a certificate that signs itself.
	SelfSigned bool
	// OmitIntermediate sends the leaf alone, without the intermediate
	// that issued it ("chain incomplete").
	OmitIntermediate bool
}

// Cert makes a server certificate issued by the intermediate.
func (p *PKI) Cert(o CertOptions) tls.Certificate {
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(90 * 24 * time.Hour)
	}
	cn := "mx.test"
	if len(o.DNSNames) > 0 {
		cn = o.DNSNames[0]
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: o.DNSNames,
		NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	var leaf *x509.Certificate
	var key *ecdsa.PrivateKey
	chain := [][]byte{}
	if o.SelfSigned {
		leaf, key = p.make(tmpl, nil, nil)
		chain = append(chain, leaf.Raw)
	} else {
		leaf, key = p.make(tmpl, p.inter, p.interKey)
		chain = append(chain, leaf.Raw)
		if !o.OmitIntermediate {
			chain = append(chain, p.inter.Raw)
		}
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

// ServerConfig is a TLS server configuration presenting cert.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}
}
