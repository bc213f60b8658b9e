package recipients

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/testworld"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"alice@example.com", "alice@example.com", ""},
		{" <Bob.Smith@Example.COM.> ", "Bob.Smith@example.com", ""},
		{"o'reilly+news@example.org", "o'reilly+news@example.org", ""},
		{`"john doe"@example.com`, `"john doe"@example.com`, ""},
		{"jörg@bücher.de", "jörg@xn--bcher-kva.de", ""},
		{"alice", "", "has no @"},
		{"@example.com", "", "empty local part"},
		{"alice@", "", "empty"},
		{"al..ice@example.com", "", "empty atom"},
		{".alice@example.com", "", "empty atom"},
		{"al ice@example.com", "", "needs quoting"},
		{"alice@exa mple.com", "", "cannot appear in a host name"},
		{"alice@[192.0.2.1]", "", "address literal"},
		{"alice@192.0.2.1", "", "IP address"},
		{strings.Repeat("a", 65) + "@example.com", "", "65 octets"},
		{`"unterminated@example.com`, "", "unterminated"},
		{"alice@example", "", "single label"},
	} {
		a, err := ParseAddress(tc.in)
		switch {
		case tc.err == "" && (err != nil || a.String() != tc.want):
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", tc.in, a, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrBadAddress)):
			t.Errorf("ParseAddress(%q) error %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

func TestRead(t *testing.T) {
	list := "\xef\xbb\xbfEmail,Name\n" + // BOM and CSV header
		"alice@example.com,Alice\n" +
		"\"bob@example.com\",\"Smith, Bob\"\n" +
		"\n" +
		"# a comment\n" +
		"not-an-address,Carol\n" +
		"ALICE@EXAMPLE.COM\n" + // duplicate of line 2 (case)
		"info@example.org\n" +
		"dave@exa mple.com\n" +
		"erin@example.net\r\n" +
		"fr\xe9d@example.com\n" +
		strings.Repeat("x", MaxLine+10) + "@example.com\n" +
		"last@example.com" // no final newline
	l, err := Read(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	if l.Lines != 13 || l.Addresses != 6 || l.Unique != 5 || l.Duplicates != 1 || l.Roles != 1 || l.SyntaxErrors != 4 || !l.HeaderSkipped {
		t.Fatalf("counts: %+v", l)
	}
	lines := []int{}
	for _, p := range l.SyntaxExamples {
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[6 9 11 12]" {
		t.Fatalf("syntax error lines %v: %+v", lines, l.SyntaxExamples)
	}
	if d := l.DupExamples[0]; d.Line != 7 || !strings.Contains(d.Reason, "line 2") {
		t.Fatalf("duplicate %+v", d)
	}
	if l.Domains["example.com"] != 3 || l.Domains["example.org"] != 1 || l.Domains["example.net"] != 1 {
		t.Fatalf("domains %v", l.Domains)
	}
}

func TestReadNotText(t *testing.T) {
	for name, in := range map[string]string{
		"UTF-16":   "\xff\xfea\x00@\x00",
		"NUL byte": "alice@example.com\nPK\x03\x04\x00\x00\n",
	} {
		if _, err := Read(strings.NewReader(in)); !errors.Is(err, ErrNotText) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, "a@example.com\n"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestReadError(t *testing.T) {
	_, err := Read(&failingReader{n: 3})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("err %v", err)
	}
}

// millionLines generates a list without holding it: 1,000,000 lines over
// 49,500 domains, every 100th line a repeat of the 50th before it.
type millionLines struct {
	i   int
	buf []byte
}

func (m *millionLines) Read(p []byte) (int, error) {
	for len(m.buf) < len(p) && m.i < 1_000_000 {
		n := m.i
		if n%100 == 99 {
			n -= 50 // a duplicate
		}
		m.buf = fmt.Appendf(m.buf, "user%d@domain%d.example\n", n, n%50_000)
		m.i++
	}
	if len(m.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, m.buf)
	m.buf = m.buf[k:]
	return k, nil
}

// TestReadMillionLines reads a million-line list and checks the heap it
// leaves stays bounded: the list is never held, only counts and hashes.
func TestReadMillionLines(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := Read(&millionLines{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if l.Lines != 1_000_000 || l.Duplicates != 10_000 || l.Unique != 990_000 || len(l.Domains) != 49_500 {
		t.Fatalf("counts: lines %d dup %d unique %d domains %d", l.Lines, l.Duplicates, l.Unique, len(l.Domains))
	}
	// The list's text is about 28 MB; what stays is the domain counts.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 20<<20 {
		t.Fatalf("the heap grew by %d MB after reading", grown>>20)
	}
	// The peak: the duplicate set of a million hashes is the largest part.
	if peak := after.HeapSys; peak > 200<<20 {
		t.Fatalf("heap reserved %d MB", peak>>20)
	}
}

func TestTypos(t *testing.T) {
	domains := map[string]int{
		"gmial.com": 3, "gmail.con": 1, "yahooo.com": 2, "hotmial.com": 1,
		"acme.com": 200, "acne.com": 2, // much rarer than acme.com
		"example.com": 30, "exemple.com": 20, // both common: two real domains
		"mail.com":         5,                         // a provider of its own, one edit from gmail.com
		"shop.example.org": 1, "shop2.example.org": 1, // one organisation
		"gmail.com": 500,
	}
	got := map[string]string{}
	for _, ty := range Typos(domains, map[string]string{"gmial.com": StatusMX}) {
		got[ty.Domain] = ty.Likely
	}
	want := map[string]string{"gmial.com": "gmail.com", "gmail.con": "gmail.com", "yahooo.com": "yahoo.com",
		"hotmial.com": "hotmail.com", "acne.com": "acme.com"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("typos %v, want %v", got, want)
	}
}

func TestOSADistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"gmail.com", "gmial.com", 1}, {"gmail.com", "gmail.com", 0}, {"gmail.com", "gmai.com", 1},
		{"gmail.com", "gmx.com", 3}, {"abc", "cba", 2}, {"hotmail.com", "hotmial.con", 2},
	} {
		if got := osaDistance(tc.a, tc.b, 5); got != tc.want {
			t.Errorf("osa(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := osaDistance("gmail.com", "yahoo.com", 1); got != 2 {
		t.Errorf("cut-off distance %d, want limit+1", got)
	}
}

const domainsZone = `
$ORIGIN test.
@ IN SOA ns hostmaster 1 3600 600 86400 300
ok           IN MX 10 mx.ok
mx.ok        IN A 81.2.69.10
nullmx       IN MX 0 .
implicit     IN A 81.2.69.11
nomail       IN TXT "v=spf1 -all"
noaddr       IN MX 10 gone.noaddr
broken       IN MX 10 mx.ok
workspace    IN MX 1 aspmx.l.google.com.
tenant       IN MX 0 tenant-test.mail.protection.outlook.com.
yahoohosted  IN MX 1 mx-biz.mail.am0.yahoodns.net.
consumer     IN MX 2 eur.olc.protection.outlook.com.
$ORIGIN com.
gmail         IN MX 5 gmail-smtp-in.l.google.com.
$ORIGIN google.com.
aspmx.l       IN A 142.250.1.26
gmail-smtp-in.l IN A 142.250.1.27
$ORIGIN outlook.com.
tenant-test.mail.protection IN A 52.101.1.1
eur.olc.protection IN A 52.101.2.2
$ORIGIN yahoodns.net.
mx-biz.mail.am0 IN A 67.195.1.1
`

func TestCheckDomains(t *testing.T) {
	srv := dnstest.Start(t, domainsZone)
	srv.SetFault("broken.test.", dns.TypeMX, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	l, err := Read(strings.NewReader(strings.Join([]string{
		"a@ok.test", "b@ok.test", "c@nullmx.test", "d@implicit.test", "e@nomail.test", "f@noaddr.test",
		"g@broken.test", "h@workspace.test", "i@tenant.test", "j@yahoohosted.test", "k@consumer.test",
		"l@gmail.com", "m@gmail.com", "n@nosuch.test",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	res := Check(context.Background(), testworld.Client(t, srv), "list.txt", l, CheckOptions{
		Progress: func(done, total int) {
			calls.Add(1)
			if done > total || total != 12 {
				t.Errorf("progress %d/%d", done, total)
			}
		}})
	if calls.Load() != 12 {
		t.Fatalf("progress called %d times", calls.Load())
	}
	want := map[string][2]string{
		"ok.test": {StatusMX, "other"}, "nullmx.test": {StatusNullMX, "other"}, "implicit.test": {StatusImplicit, "other"},
		"nomail.test": {StatusNoMail, "other"}, "noaddr.test": {StatusNoAddress, "other"}, "broken.test": {StatusUnknown, "unknown"},
		"workspace.test": {StatusMX, "google-workspace"}, "tenant.test": {StatusMX, "microsoft-365"},
		"yahoohosted.test": {StatusMX, "yahoo"}, "consumer.test": {StatusMX, "outlook.com"},
		"gmail.com": {StatusMX, "gmail"}, "nosuch.test": {StatusNXDomain, "other"},
	}
	for _, d := range res.DomainResults() {
		if w, ok := want[d.Domain]; !ok || d.Status != w[0] || string(d.Hosting) != w[1] {
			t.Errorf("%s: %s %s, want %v", d.Domain, d.Status, d.Hosting, w)
		}
	}
	if n, _ := res.Governed(provider.Gmail); n != 2 {
		t.Errorf("gmail governs %d recipients", n)
	}
	if n, _ := res.Governed(provider.Microsoft); n != 1 {
		t.Errorf("microsoft governs %d recipients", n)
	}
	if res.DomainResults()[0].Domain != "gmail.com" && res.DomainResults()[0].Domain != "ok.test" {
		t.Errorf("most common domains first: %v", res.DomainResults()[0])
	}
	ids := map[string]report.Severity{}
	for _, f := range res.Findings() {
		ids[f.ID] = f.Severity
	}
	for id, sev := range map[string]report.Severity{
		"recipients.domain-nxdomain": report.Failure, "recipients.domain-null-mx": report.Failure,
		"recipients.domain-no-mail": report.Failure, "recipients.domain-no-address": report.Failure,
		"recipients.domain-implicit-mx": report.Info, "recipients.domain-unknown": report.Unknown,
		"recipients.providers": report.Info,
	} {
		if got, ok := ids[id]; !ok || got != sev {
			t.Errorf("finding %s: %v %v (have %v)", id, got, ok, ids)
		}
	}
}

// TestUnlookedDomains: domains whose lookup failed or never ran (the
// deadline, the bound) are unknown — an unknown finding, and their own
// "unknown" hosting bucket, never "other providers".
func TestUnlookedDomains(t *testing.T) {
	srv := dnstest.Start(t, domainsZone)
	srv.SetFault("broken.test.", dns.TypeMX, dnstest.Fault{Rcode: dns.RcodeServerFailure})
	l, err := Read(strings.NewReader("a@ok.test\nb@ok.test\nc@ok.test\nd@broken.test\ne@broken.test\nf@implicit.test\ng@gmail.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the two most common domains are looked up: ok.test and broken.test.
	res := Check(context.Background(), testworld.Client(t, srv), "list.txt", l, CheckOptions{MaxChecked: 2})
	hosted := map[provider.Hosting]Hosted{}
	for _, h := range res.Hosted {
		hosted[h.Hosting] = h
	}
	if h := hosted[provider.HostUnknown]; h.Domains != 2 || h.Recipients != 3 {
		t.Errorf("unknown bucket %+v, want broken.test (failed) and implicit.test (not looked up): 2 domains, 3 recipients", h)
	}
	if h := hosted[provider.HostOther]; h.Domains != 1 || h.Recipients != 3 {
		t.Errorf("other bucket %+v, want ok.test only", h)
	}
	if n, _ := res.Governed(provider.Gmail); n != 1 {
		t.Errorf("gmail.com is Gmail by its name, looked up or not: %d", n)
	}
	sev := map[string]report.Severity{}
	var providers report.Finding
	for _, f := range res.Findings() {
		sev[f.ID] = f.Severity
		if f.ID == "recipients.providers" {
			providers = f
		}
	}
	if sev["recipients.domain-unchecked"] != report.Unknown || sev["recipients.domain-unknown"] != report.Unknown {
		t.Errorf("severities %v", sev)
	}
	if !strings.Contains(providers.Summary, "unknown 3") {
		t.Errorf("providers summary %q does not count the unknown ones", providers.Summary)
	}
	// A deadline that came first: nothing looked up, nothing "other".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = Check(ctx, testworld.Client(t, srv), "list.txt", l, CheckOptions{})
	for _, h := range res.Hosted {
		if h.Hosting == provider.HostOther && h.Domains > 0 {
			t.Errorf("domains never looked up counted as other providers: %+v", h)
		}
	}
}
