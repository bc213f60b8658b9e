package probe

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mxray/mxray/report/catalog"
)

// FuzzReadReply feeds arbitrary server output to the reply reader: it must
// return (a reply or an error) without panicking, within the limits.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 mx.example.test ESMTP\r\n", "220-a\r\n220-b\r\n220 c\r\n", "220-a\r\n250 b\r\n", "garbage\r\n",
		"220", "220 \xff\xfe\r\n", "550 5.7.1 blocked\r\n", "2\r\n", "\r\n", "220-\n220 x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, cli := net.Pipe()
		go func() {
			_, _ = srv.Write(data)
			_ = srv.Close()
		}()
		c := NewClient(cli, Limits{MaxLineLength: 256, MaxLines: 8, MaxBytes: 4096}, time.Second)
		defer c.Close()
		r, err := c.ReadGreeting(context.Background(), time.Second, time.Now())
		if err == nil {
			if r == nil || len(r.Lines) == 0 || r.Code < 200 || r.Code > 559 {
				t.Fatalf("reply %+v without error", r)
			}
			if r.Stage != catalog.StageConnect {
				t.Fatalf("stage %s", r.Stage)
			}
		}
		if r != nil && len(r.Lines) > 9 {
			t.Fatalf("%d lines read past the limit", len(r.Lines))
		}
	})
}
