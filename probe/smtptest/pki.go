package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"time"
)

// PKI is a test certificate authority: a root and an intermediate, both
// made in the test (or, with BuildPKI, in the program that runs the fakes).
type PKI struct {
	t        TB // nil for BuildPKI
	root     *x509.Certificate
	rootKey  *ecdsa.PrivateKey
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
	mu       sync.Mutex
	serial   int64
}

// NewPKI makes a root CA and an intermediate CA; an error fails the test.
func NewPKI(t TB) *PKI {
	t.Helper()
	p, err := BuildPKI()
	if err != nil {
		t.Fatal(err)
	}
	p.t = t
	return p
}

// BuildPKI is NewPKI without a test.
func BuildPKI() (*PKI, error) {
	p := &PKI{serial: 1}
	now := time.Now()
	var err error
	p.root, p.rootKey, err = p.make(&x509.Certificate{Subject: pkix.Name{CommonName: "mxray test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour * 3650),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	if err != nil {
		return nil, err
	}
	p.inter, p.interKey, err = p.make(&x509.Certificate{Subject: pkix.Name{CommonName: "mxray test intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour * 365),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, p.root, p.rootKey)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PKI) make(tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	p.mu.Unlock()
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return c, key, nil
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

// Cert makes a server certificate issued by the intermediate; an error
// fails the test (a PKI from BuildPKI uses Issue).
func (p *PKI) Cert(o CertOptions) tls.Certificate {
	c, err := p.Issue(o)
	if err != nil {
		if p.t == nil {
			panic("smtptest: Cert on a PKI without a test; use Issue: " + err.Error())
		}
		p.t.Fatal(err)
	}
	return c
}

// Issue makes a server certificate issued by the intermediate.
func (p *PKI) Issue(o CertOptions) (tls.Certificate, error) {
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
	parent, parentKey := p.inter, p.interKey
	if o.SelfSigned {
		parent, parentKey = nil, nil
	}
	leaf, key, err := p.make(tmpl, parent, parentKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{leaf.Raw}
	if !o.SelfSigned && !o.OmitIntermediate {
		chain = append(chain, p.inter.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// ServerConfig is a TLS server configuration presenting cert.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}
}
