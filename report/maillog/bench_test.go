package maillog

// The mail log benchmark: a generated Postfix log with the line shapes of
// a real one (connect/TLS/disconnect noise, cleanup and qmgr lines,
// successful deliveries, anvil statistics) in which one line in 20 is an
// event — smtpd rejects of many clients and recipients, smtp bounces and
// deferrals. The log is generated in memory and streamed; nothing is
// written to disk.
//
// Size per iteration: MXRAY_MAILLOG_BENCH_BYTES (with K, M or G: "1G" for
// the 1 GB figure), default 32M so that `make bench` stays quick. The
// benchmark reports MB/s and the process's peak resident set (VmHWM).
//
// To measure the built binary instead (its RSS with /usr/bin/time -v),
// write the log to a file: MXRAY_MAILLOG_BENCH_FILE=/tmp/mail.log
// MXRAY_MAILLOG_BENCH_BYTES=1G go test -run TestWriteBenchLog ./report/maillog
// then run mxray explain --offline /tmp/mail.log.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"
)

// benchBlock is one generated stretch of log, repeated to the size asked
// (its queue ids and times differ per line; the replies repeat, as they do
// in a real log).
func benchBlock(lines int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	t := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	qid := func() string { return fmt.Sprintf("%X%05X", r.IntN(1<<20), r.IntN(1<<20)) }
	ip := func() string { return fmt.Sprintf("198.51.%d.%d", r.IntN(256), 1+r.IntN(254)) }
	rejects := []func(client, rcpt string) string{
		func(c, _ string) string {
			return "554 5.7.1 Service unavailable; Client host [" + c + "] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/" + c
		},
		func(_, r string) string {
			return "550 5.1.1 <" + r + ">: Recipient address rejected: User unknown in local recipient table"
		},
		func(c, _ string) string {
			return "450 4.7.25 Client host rejected: cannot find your hostname, [" + c + "]"
		},
		func(_, r string) string { return "554 5.7.1 <" + r + ">: Relay access denied" },
		func(_, _ string) string {
			return "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"
		},
	}
	bounces := []string{
		"host mx.example.net[192.0.2.25] said: 550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
		"host mx.example.com[198.51.100.7] said: 554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
		"connect to mx.example.info[192.0.2.80]:25: Connection timed out",
		"host mx.example.edu[192.0.2.99] said: 450 4.7.1 <%s>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
		"host mx.example.org[192.0.2.30] said: 552 5.2.2 <%s>: Quota exceeded (mailbox for user is full) (in reply to end of DATA command)",
	}
	for n := 0; n < lines; n++ {
		t = t.Add(time.Duration(50+r.IntN(200)) * time.Millisecond)
		stamp := t.Format(time.Stamp)
		pid := 1000 + r.IntN(9000)
		client := ip()
		rcpt := fmt.Sprintf("user%d@example%d.org", r.IntN(5000), r.IntN(50))
		if n%20 == 19 {
			if r.IntN(2) == 0 {
				text := rejects[r.IntN(len(rejects))](client, rcpt)
				fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[%s]: %s; from=<news@sender%d.test> to=<%s> proto=ESMTP helo=<client.test>\n",
					stamp, pid, client, text, r.IntN(100), rcpt)
			} else {
				text := bounces[r.IntN(len(bounces))]
				if strings.Contains(text, "%s") {
					text = fmt.Sprintf(text, rcpt)
				}
				status, dsn := "bounced", "5.0.0"
				if strings.Contains(text, " 4") || strings.HasPrefix(text, "connect") {
					status, dsn = "deferred", "4.0.0"
				}
				fmt.Fprintf(&b, "%s mx postfix/smtp[%d]: %s: to=<%s>, relay=mx.example.net[192.0.2.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=%s, status=%s (%s)\n",
					stamp, pid, qid(), rcpt, dsn, status, text)
			}
			continue
		}
		q := qid()
		switch n % 19 {
		case 0, 6, 12:
			fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: connect from unknown[%s]\n", stamp, pid, client)
		case 1, 7:
			fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: Anonymous TLS connection established from unknown[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n", stamp, pid, client)
		case 2, 8:
			fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: %s: client=unknown[%s]\n", stamp, pid, q, client)
		case 3, 9:
			fmt.Fprintf(&b, "%s mx postfix/cleanup[%d]: %s: message-id=<%d.%s@example.org>\n", stamp, pid, q, r.IntN(1<<30), q)
		case 4, 10:
			fmt.Fprintf(&b, "%s mx postfix/qmgr[1200]: %s: from=<news@example.org>, size=%d, nrcpt=1 (queue active)\n", stamp, q, 1000+r.IntN(90000))
		case 5, 11:
			fmt.Fprintf(&b, "%s mx postfix/smtp[%d]: %s: to=<%s>, relay=mx.example.net[192.0.2.25]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)\n", stamp, pid, q, rcpt, qid())
		case 13, 14:
			fmt.Fprintf(&b, "%s mx postfix/qmgr[1200]: %s: removed\n", stamp, q)
		case 15:
			fmt.Fprintf(&b, "%s mx postfix/anvil[1201]: statistics: max connection rate 3/60s for (smtp:%s) at %s\n", stamp, client, stamp)
		case 16:
			fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: lost connection after EHLO from unknown[%s]\n", stamp, pid, client)
		default:
			fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n", stamp, pid, client)
		}
	}
	return b.Bytes()
}

// repeatReader streams block again and again, n bytes in all, cut at a
// line end.
type repeatReader struct {
	block []byte
	off   int
	left  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, r.block[r.off:])
	if int64(n) > r.left {
		n = int(r.left)
		if k := bytes.LastIndexByte(p[:n], '\n'); k >= 0 {
			n = k + 1
		}
		r.left = 0
	}
	r.left -= int64(n)
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

// benchBytes reads MXRAY_MAILLOG_BENCH_BYTES ("32M" by default).
func benchBytes(tb testing.TB) int64 {
	v := os.Getenv("MXRAY_MAILLOG_BENCH_BYTES")
	if v == "" {
		v = "32M"
	}
	mult := int64(1)
	switch strings.ToUpper(v[len(v)-1:]) {
	case "K":
		mult, v = 1<<10, v[:len(v)-1]
	case "M":
		mult, v = 1<<20, v[:len(v)-1]
	case "G":
		mult, v = 1<<30, v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		tb.Fatalf("MXRAY_MAILLOG_BENCH_BYTES=%q: want a size like 64M or 1G", os.Getenv("MXRAY_MAILLOG_BENCH_BYTES"))
	}
	return n * mult
}

// peakRSS is the process's peak resident set in bytes (Linux VmHWM), or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func BenchmarkMailLog(b *testing.B) {
	size := benchBytes(b)
	block := benchBlock(100000) // ~17 MB, generated before the clock starts
	// The catalog is compiled on first use: a one-time cost of the process.
	if _, err := catalog.Default(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	var events int64
	for i := 0; i < b.N; i++ {
		s := NewScanner(&repeatReader{block: block, left: size}, Options{})
		var gs Groups
		if err := s.Scan(func(ev *Event) error { gs.Add(ev); return nil }); err != nil {
			b.Fatal(err)
		}
		st := s.Stats()
		if st.Events*20 < st.Lines*9/10 || st.Events*20 > st.Lines*11/10 {
			b.Fatalf("%d events in %d lines: want one line in 20", st.Events, st.Lines)
		}
		events += st.Events
	}
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// TestWriteBenchLog writes the benchmark's log to MXRAY_MAILLOG_BENCH_FILE
// (for measuring the built binary); it does nothing without it.
func TestWriteBenchLog(t *testing.T) {
	path := os.Getenv("MXRAY_MAILLOG_BENCH_FILE")
	if path == "" {
		t.Skip("set MXRAY_MAILLOG_BENCH_FILE (and MXRAY_MAILLOG_BENCH_BYTES) to write the benchmark log")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.Copy(w, &repeatReader{block: benchBlock(100000), left: benchBytes(t)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
