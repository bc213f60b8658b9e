package serve

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxray/mxray/check"
)

func TestReverseAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"4.3.2.1.in-addr.arpa.", "1.2.3.4"},
		{"1.0.0.127.IN-ADDR.ARPA", "127.0.0.1"},
		{"b.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.a.2.8.0.1.0.0.4.0.5.4.1.0.0.a.2.ip6.arpa.", "2a00:1450:4001:82a::1b"},
		{"3.2.1.in-addr.arpa.", ""},
		{"x.3.2.1.in-addr.arpa.", ""},
		{"1.0.ip6.arpa.", ""},
		{"example.com.", ""},
	} {
		a, ok := reverseAddr(tc.name)
		if got := map[bool]string{true: a.String(), false: ""}[ok]; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	names, prefixes, err := parseAllowTargets([]string{"example.com", "*.example.net", "192.0.2.0/24", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	open, restricted := policy{}, policy{names: names, prefixes: prefixes}
	for _, tc := range []struct {
		p     policy
		name  string
		want  string // substring of the refusal; "" for allowed
		check func(p policy, s string) error
	}{
		{open, "example.org", "", policy.checkName},
		{open, "printer.local", "multicast DNS", policy.checkName},
		{open, "LOCALHOST.", "loopback", policy.checkName},
		{open, "nas.home.arpa", "home network", policy.checkName},
		{open, "x.internal", "private use", policy.checkName},
		{policy{allowPrivate: true}, "printer.local", "", policy.checkName},
		{restricted, "mx.example.com", "", policy.checkName},
		{restricted, "example.net", "", policy.checkName},
		{restricted, "badexample.com", "--allow-target", policy.checkName},
		{open, "8.8.8.8", "", func(p policy, s string) error { return p.checkAddr(netip.MustParseAddr(s)) }},
		{open, "100.64.1.1", "CGNAT", func(p policy, s string) error { return p.checkAddr(netip.MustParseAddr(s)) }},
		{open, "::ffff:10.0.0.1", "private", func(p policy, s string) error { return p.checkAddr(netip.MustParseAddr(s).Unmap()) }},
		{restricted, "192.0.2.9", "documentation", func(p policy, s string) error { return p.checkAddr(netip.MustParseAddr(s)) }},
		{restricted, "81.2.69.1", "--allow-target", func(p policy, s string) error { return p.checkAddr(netip.MustParseAddr(s)) }},
	} {
		err := tc.check(tc.p, tc.name)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrRefused)):
			t.Errorf("%s: %v, want a refusal naming %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := parseAllowTargets([]string{"not a pattern"}); err == nil {
		t.Error("a bad pattern was accepted")
	}
	if why := open.refusedQuery("1.0.0.10.in-addr.arpa."); !strings.Contains(why, "10.0.0.1") {
		t.Errorf("reverse name of a private address: %q", why)
	}
	if why := open.refusedQuery("_dmarc.printer.local."); why == "" {
		t.Error("a special-use name was asked")
	}
	if why := open.refusedQuery("2.0.0.127.zen.spamhaus.org."); why != "" {
		t.Errorf("a blocklist test point was refused: %s", why)
	}
}

// TestGuardedDial: special-use addresses are never dialed; SMTP dials of
// one IP wait for each other across requests; HTTPS dials do not.
func TestGuardedDial(t *testing.T) {
	var open, peak atomic.Int32
	locks := &check.IPLocks{}
	inner := func(ctx context.Context, network, addr string) (net.Conn, error) {
		n := open.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		return &countedConn{onClose: func() { open.Add(-1) }}, nil
	}
	d := guardedDial(inner, policy{}, locks)
	if _, err := d(context.Background(), "tcp", "127.0.0.1:25"); err == nil || !errors.Is(err, ErrRefused) {
		t.Errorf("loopback dialed: %v", err)
	}
	if _, err := d(context.Background(), "tcp", "mx.example.com:25"); err == nil {
		t.Error("a name was dialed")
	}
	done := make(chan struct{})
	for i := 0; i < 4; i++ {
		go func() {
			c, err := d(context.Background(), "tcp", "81.2.69.1:25")
			if err == nil {
				time.Sleep(20 * time.Millisecond)
				c.Close()
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
	if peak.Load() != 1 {
		t.Errorf("%d SMTP connections to one IP at once, want 1", peak.Load())
	}
	if locks.Len() != 0 {
		t.Errorf("%d locks left", locks.Len())
	}
	// A waiting dial gives up with its context.
	c, _ := d(context.Background(), "tcp", "81.2.69.2:25")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d(ctx, "tcp", "81.2.69.2:25"); err == nil || !strings.Contains(err.Error(), "another SMTP session") {
		t.Errorf("second dial while the first is open: %v", err)
	}
	c.Close()
	peak.Store(0)
	a, _ := d(context.Background(), "tcp", "81.2.69.3:443")
	b, _ := d(context.Background(), "tcp", "81.2.69.3:443")
	if peak.Load() != 2 {
		t.Errorf("HTTPS dials serialised: peak %d", peak.Load())
	}
	a.Close()
	b.Close()
}

// TestNoTrustedHTML: no remote text is ever marked safe HTML.
func TestNoTrustedHTML(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`template\.(HTML|JS|CSS|URL|HTMLAttr|JSStr|Srcset)\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if re.Match(b) {
			t.Errorf("%s converts a string to trusted template content", f)
		}
	}
}

// TestContrast: every foreground/background pair of the style sheet, and
// the page's text colours on its background, pass WCAG 2.1 AA (4.5:1) in
// the light and in the dark scheme.
func TestContrast(t *testing.T) {
	css, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	dark := strings.Index(string(css), "prefers-color-scheme: dark")
	if dark < 0 {
		t.Fatal("no dark scheme")
	}
	for scheme, block := range map[string]string{"light": string(css[:dark]), "dark": string(css[dark:])} {
		vars := cssVars(block)
		pairs := [][2]string{{"text", "bg"}, {"muted", "bg"}, {"link", "bg"}, {"text", "panel"}, {"muted", "panel"}, {"code-fg", "code-bg"}, {"link", "code-bg"}, {"bg", "link"}}
		for name := range vars {
			if base, ok := strings.CutSuffix(name, "-fg"); ok {
				pairs = append(pairs, [2]string{name, base + "-bg"})
			}
		}
		if len(pairs) < 13 {
			t.Errorf("%s: only %d colour pairs", scheme, len(pairs))
		}
		for _, p := range pairs {
			fg, okf := vars[p[0]]
			bg, okb := vars[p[1]]
			if !okf || !okb {
				t.Errorf("%s: --%s or --%s undefined", scheme, p[0], p[1])
				continue
			}
			if r := contrast(fg, bg); r < 4.5 {
				t.Errorf("%s: --%s on --%s has contrast %.2f:1, below 4.5:1", scheme, p[0], p[1], r)
			}
		}
	}
}

func cssVars(block string) map[string][3]float64 {
	out := map[string][3]float64{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*#([0-9a-fA-F]{6})`).FindAllStringSubmatch(block, -1) {
		var c [3]float64
		for i := 0; i < 3; i++ {
			v, _ := strconv.ParseUint(m[2][2*i:2*i+2], 16, 8)
			c[i] = float64(v) / 255
		}
		out[m[1]] = c
	}
	return out
}

// contrast is the WCAG 2.1 contrast ratio (relative luminance, §1.4.3).
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// countedConn is a connection that only counts its closing.
type countedConn struct {
	net.Conn
	onClose func()
}

func (c *countedConn) Close() error { c.onClose(); return nil }

// TestClientKey: the rate limit's client is the connection's address, or
// behind a trusted proxy the last untrusted X-Forwarded-For hop; an IPv6
// client is its /64.
func TestClientKey(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"198.51.100.7:5000", "", "198.51.100.7"},
		{"198.51.100.7:5000", "203.0.113.5", "198.51.100.7"}, // not from a trusted proxy: XFF is ignored
		{"10.0.0.1:5000", "203.0.113.5", "203.0.113.5"},
		{"10.0.0.1:5000", "192.0.2.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"},
		{"10.0.0.1:5000", "garbage", "10.0.0.1"},
		{"[2001:db8:1:2:3::4]:5000", "", "2001:db8:1:2::/64"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientKey(r, trusted); got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// TestClientRates: a burst, then one token per period; clients apart.
func TestClientRates(t *testing.T) {
	c := newClientRates(60, 2) // one a second
	now := time.Now()
	for i := 0; i < 2; i++ {
		if _, ok := c.allow("a", now); !ok {
			t.Fatalf("burst request %d refused", i)
		}
	}
	if wait, ok := c.allow("a", now); ok || wait <= 0 || wait > time.Second {
		t.Errorf("over the burst: %v %v", wait, ok)
	}
	if _, ok := c.allow("b", now); !ok {
		t.Error("another client was limited")
	}
	if _, ok := c.allow("a", now.Add(1100*time.Millisecond)); !ok {
		t.Error("no token after a second")
	}
	if _, ok := newClientRates(0, 1).allow("a", now); !ok {
		t.Error("no limit refused")
	}
}
