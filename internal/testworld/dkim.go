package testworld

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// DKIMSign signs msg with go-msgauth's signer (relaxed/relaxed), signing the
// given header fields, and returns the signed message.
func DKIMSign(t testing.TB, msg, domain, selector string, key crypto.Signer, fields []string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := msgauth.Sign(&out, strings.NewReader(msg), &msgauth.SignOptions{Domain: domain, Selector: selector, Signer: key,
		HeaderKeys: fields, HeaderCanonicalization: msgauth.CanonicalizationRelaxed, BodyCanonicalization: msgauth.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// DKIMKeyRecord is the zone-file line publishing pub (an *rsa.PublicKey as
// SubjectPublicKeyInfo, an ed25519.PublicKey raw) at name, the value split
// into character-strings of at most 255 octets (RFC 6376 §3.6.2.2).
func DKIMKeyRecord(t testing.TB, name string, pub crypto.PublicKey) string {
	t.Helper()
	var value string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		value = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		value = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k)
	default:
		t.Fatalf("DKIMKeyRecord: %T", pub)
	}
	return TXTRecord(name, value)
}

// TXTRecord is a zone-file TXT line for a value of any length.
func TXTRecord(name, value string) string {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, `"`+value[:255]+`"`)
		value = value[255:]
	}
	parts = append(parts, `"`+value+`"`)
	return name + " 300 IN TXT " + strings.Join(parts, " ")
}
