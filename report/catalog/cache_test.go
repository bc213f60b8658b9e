package catalog

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// otherTokens replaces every token MaskReply masks with another of its
// kind, as the next occurrence of the same reply in a log would have.
func otherTokens(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := tokenEnd(s, i)
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		tok := s[i:j]
		switch {
		case strings.IndexByte(tok, '@') > 0 && strings.IndexByte(tok, '@') < len(tok)-1:
			b.WriteString("zz9.other-user@mail.other.example")
		case isIPToken(tok) && strings.Contains(tok, ":"):
			b.WriteString("2001:db8:ffff::77")
		case isIPToken(tok):
			b.WriteString("198.51.100.77")
		case isIDToken(tok):
			b.WriteString("Q9Z8Y7X6W5V4")
		default:
			b.WriteString(tok)
		}
		i = j
	}
	return b.String()
}

// TestCacheMaskKeepsWinner: replacing what the mask hides never changes
// which entry wins — on every example, near miss and seed reply — so a
// cache keyed on the masked text is exact.
func TestCacheMaskKeepsWinner(t *testing.T) {
	c := mustCatalog(t)
	changed := 0
	for _, x := range everyKnownReply(t, c) {
		other := otherTokens(x.Text)
		if other == x.Text {
			continue
		}
		changed++
		a, _, _ := c.Match(x.Stage, x.Code, x.Enhanced, x.Text)
		b, _, _ := c.Match(x.Stage, x.Code, x.Enhanced, other)
		if a != b {
			t.Errorf("%q: %s, but %s for %q", x.Text, id(a), id(b), other)
		}
		if MaskReply(x.Text) != MaskReply(other) {
			t.Errorf("masks differ: %q / %q", MaskReply(x.Text), MaskReply(other))
		}
	}
	if changed < 50 {
		t.Errorf("only %d inputs carry maskable tokens", changed)
	}
}

func id(e *Entry) string {
	if e == nil {
		return "(none)"
	}
	return e.ID
}

// TestCacheExplainsLikeCatalog: through the cache, each reply gets
// exactly the catalog's explanation — captures and summary from its own
// text, not from the first text cached.
func TestCacheExplainsLikeCatalog(t *testing.T) {
	c := mustCatalog(t)
	k := c.NewCache(8)
	for i := 0; i < 40; i++ {
		ip := fmt.Sprintf("192.0.2.%d", i%20+1)
		text := "554 5.7.1 Service unavailable; Client host [" + ip + "] blocked using zen.spamhaus.org; from=<s" + fmt.Sprint(i) + "@example.org>"
		got := k.Explain(StageRCPT, 554, "5.7.1", text)
		want := c.Explain(StageRCPT, 554, "5.7.1", text)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("cache: %+v\ncatalog: %+v", got, want)
		}
		if got.Captures["ip"] != ip {
			t.Fatalf("captured %q, want %s", got.Captures["ip"], ip)
		}
	}
	for i := 0; i < 20; i++ { // more distinct keys than the cache holds
		k.Explain(StageRCPT, 550, "5.1.1", fmt.Sprintf("user unknown %d", i))
	}
	hits, misses, flushes := k.Stats()
	if hits < 39 || misses < 21 || flushes == 0 {
		t.Errorf("hits %d misses %d flushes %d", hits, misses, flushes)
	}
}

func TestMaskReply(t *testing.T) {
	for in, want := range map[string]string{
		"Client host [192.0.2.1] blocked using zen.spamhaus.org":             "Client host [#ip] blocked using zen.spamhaus.org",
		"<a.b@example.com>: Recipient address rejected: User unknown.":       "<#addr>: Recipient address rejected: User unknown.",
		"from [IPv6:2001:db8::1] id 4Z1abc2XyzQ3 RESOLVER.ADR.RecipNotFound": "from [#ip] id #id RESOLVER.ADR.RecipNotFound",
		"550 5.7.606 Access denied, banned sending IP [198.51.100.2]":        "550 5.7.606 Access denied, banned sending IP [#ip]",
		"version 4.16.55.1 and 12:30:00":                                     "version #ip and 12:30:00",
	} {
		if got := MaskReply(in); got != want {
			t.Errorf("MaskReply(%q) = %q, want %q", in, got, want)
		}
	}
}
