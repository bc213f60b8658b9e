package message

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkBounded asserts the invariants every input must keep: the result
// exists, its size is bounded by the limits, and every reason is a name.
func checkBounded(t *testing.T, in []byte, ex *Explained) {
	t.Helper()
	if ex == nil {
		t.Fatal("nil result")
	}
	if len(ex.Replies) > 200 {
		t.Fatalf("%d replies for %d bytes of input", len(ex.Replies), len(in))
	}
	for _, r := range ex.Replies {
		if r.Reason == "" {
			t.Fatalf("reply without reason: %+v", r)
		}
		if len(r.Reply) > 16<<10 {
			t.Fatalf("reply text of %d bytes", len(r.Reply))
		}
	}
}

// hostileInputs are messages built to make a careless parser explode.
func hostileInputs() map[string][]byte {
	deep := &bytes.Buffer{}
	deep.WriteString("From: a@b\nSubject: deep\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(deep, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i)
	}
	manyParts := &bytes.Buffer{}
	manyParts.WriteString("From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n")
	for i := 0; i < 20000; i++ {
		manyParts.WriteString("--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b\nAction: failed\nStatus: 5.1.1\n\n")
	}
	nestedRFC822 := &bytes.Buffer{}
	for i := 0; i < 3000; i++ {
		nestedRFC822.WriteString("From: a@b\nContent-Type: message/rfc822\n\n")
	}
	manyRecips := &bytes.Buffer{}
	manyRecips.WriteString("From: MAILER-DAEMON@x\nSubject: failure notice\n\n")
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(manyRecips, "<u%d@example.com>:\n550 5.1.1 no\n", i)
	}
	return map[string][]byte{
		"huge header line":   append([]byte("From: a@b\nSubject: "), bytes.Repeat([]byte("x"), 9<<20)...),
		"many header fields": append(bytes.Repeat([]byte("X-A: b\n"), 400000), []byte("\n550 5.1.1 x")...),
		"huge folded header": append([]byte("From: a@b\nSubject: x\n"), bytes.Repeat([]byte(" y\n"), 300000)...),
		"deep multipart":     deep.Bytes(),
		"many parts":         manyParts.Bytes(),
		"nested rfc822":      nestedRFC822.Bytes(),
		"many recipients":    manyRecips.Bytes(),
		"invalid charset":    []byte("From: a@b\nSubject: =?x-bogus?B?////?= =?iso-2022-jp?B?GyRCJDMbKEI=?=\nContent-Type: text/plain; charset=\"x-no-such\"\nContent-Transfer-Encoding: base64\n\n////\xff\xfe====\n"),
		"bad iso-2022-jp":    []byte("From: a@b\nSubject: s\nContent-Type: text/plain; charset=iso-2022-jp\n\n\x1b$B\xff\xff\x1b(B 550 5.1.1 unknown\n"),
		"broken qp":          []byte("From: a@b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=\n=4\n550 5.1.1"),
		"binary garbage":     bytes.Repeat([]byte{0, 0xff, '\n', ':', '-', '5', '5', '0', ' '}, 200000),
		"long single line":   bytes.Repeat([]byte("550-5.7.1 "), 500000),
		"dsn without fields": []byte("From: a@b\nContent-Type: multipart/report; boundary=q\n\n--q\nContent-Type: message/delivery-status\n\n;;;\n::\n--q--"),
	}
}

// TestHostileInput: every hostile input is handled in bounded time and
// with a bounded result.
func TestHostileInput(t *testing.T) {
	for name, in := range hostileInputs() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			ex := ExplainInput(in, ExplainOptions{})
			checkBounded(t, in, ex)
			// Generous: the race detector and a shared CI machine are slow.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestMIMELimits: the limits are reported, not silently applied.
func TestMIMELimits(t *testing.T) {
	in := hostileInputs()
	m := ParseMessage(in["deep multipart"], DefaultLimits)
	if !m.Limited {
		t.Error("deep multipart: Limited not set")
	}
	depth := 0
	m.Root.Walk(func(p *Part) { depth = max(depth, p.Depth) })
	if depth > DefaultLimits.MaxDepth {
		t.Errorf("depth %d beyond the limit %d", depth, DefaultLimits.MaxDepth)
	}
	m = ParseMessage(in["many parts"], DefaultLimits)
	n := 0
	m.Root.Walk(func(*Part) { n++ })
	if n > DefaultLimits.MaxParts || !m.Limited {
		t.Errorf("many parts: %d parts, Limited=%v", n, m.Limited)
	}
	m = ParseMessage(in["huge header line"], DefaultLimits)
	if !m.Truncated {
		t.Error("9 MiB input not marked truncated at the 8 MiB limit")
	}
}

// FuzzParseBounce drives the bounce and DSN parsers (MIME tree, DSN
// fields, notification text, recipients and their paragraphs, reply
// finding) without the reply catalog, whose hundreds of regular expressions
// would make each execution slow under coverage instrumentation. The
// catalog end to end is exercised by TestHostileInput and the corpus test.
func FuzzParseBounce(f *testing.F) {
	files, _ := filepath.Glob("testdata/bounces/maildir/*.eml")
	for i, file := range files {
		if i%15 != 0 { // a sample keeps the seed corpus quick
			continue
		}
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b[:min(len(b), 16<<10)])
		}
	}
	for _, s := range []string{
		"From: a@b\nContent-Type: multipart/report; boundary=\"x\"\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; u@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no\n--x--",
		"From MAILER-DAEMON x\nFrom: a@b\nSubject: s\n\nbody\n\nFrom MAILER-DAEMON y\nFrom: c@d\n\n<u@e.example>:\n550 no\n",
		"From: a@b\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: message/rfc822\n\nFrom: c@d\nContent-Type: multipart/mixed; boundary=r\n\n--r\n\n--r--\n--q--",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxSize: 256 << 10, MaxHeaderBytes: 64 << 10, MaxHeaderLines: 500, MaxDepth: 6, MaxParts: 50}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, raw := range append(bncSplitMbox(in), in) {
			m := ParseMessage(raw, lim)
			parts := 0
			m.Root.Walk(func(p *Part) {
				parts++
				if p.Depth > lim.MaxDepth {
					t.Fatalf("depth %d beyond %d", p.Depth, lim.MaxDepth)
				}
				if strings.HasPrefix(p.MediaType, "message/delivery-status") {
					_ = ParseDSN(p.Text())
				}
				_ = p.Text()
			})
			if parts > lim.MaxParts+1 {
				t.Fatalf("%d parts beyond %d", parts, lim.MaxParts)
			}
			text := bncNotificationText(m.Root)
			if len(text) > bncMaxNotification+4 {
				t.Fatalf("notification of %d bytes", len(text))
			}
			lines := strings.Split(text, "\n")
			recips := bncBodyRecipients(m.Root, lines)
			if len(recips) > 101 {
				t.Fatalf("%d recipients", len(recips))
			}
			for _, r := range recips {
				fr := FindReply(r.para)
				if fr.Code != 0 && (fr.Code < 200 || fr.Code > 599) {
					t.Fatalf("code %d", fr.Code)
				}
			}
		}
	})
}

func FuzzFindReply(f *testing.F) {
	for _, s := range []string{"550 5.1.1 x", "<<< 421-4.7.0 a\n>>> RCPT TO:<a@b>", "#5.1.1 smtp;550 ...", "554 <a@b>... 550 Host unknown"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := FindReply(s)
		if r.Code != 0 && (r.Code < 200 || r.Code > 599) {
			t.Fatalf("code %d", r.Code)
		}
		_ = ExtractEntities(s)
		_ = ParseDSN(s)
	})
}
