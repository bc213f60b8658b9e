package check

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/report"
)

func TestZZShowDNSBL(t *testing.T) {
	srv := dnstest.Start(t, `
example.com.          MX   10 mx.example.com.
mx.example.com.       A    81.0.0.2
mx.example.com.       AAAA 2a01:4f8:1:2::25
2.0.0.127.zen.spamhaus.org.  A 127.0.0.2
2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org. A 127.0.0.2
2.0.0.81.zen.spamhaus.org.   A 127.0.0.10
2.0.0.81.zen.spamhaus.org.   TXT "https://check.spamhaus.org/query/ip/81.0.0.2"
*.multi.uribl.com.   A   127.0.0.1
dbltest.com.dbl.spamhaus.org.     A 127.0.1.2
`)
	res, _ := dnscheck.NewClient([]string{srv.Addr}, dnscheck.Options{AttemptTimeout: 200 * time.Millisecond})
	cfg := Config{Resolver: res, Only: []string{"dnsbl"}, SendingIP: netip.MustParseAddr("81.0.0.4")}
	rep, _ := Domain(context.Background(), cfg, "example.com")
	report.WriteText(os.Stdout, rep, report.TextOptions{})
}
