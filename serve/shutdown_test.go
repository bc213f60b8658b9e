package serve_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/serve"
)

// TestShutdown: on SIGTERM (ctx ends) a report in flight finishes within
// the grace period; with a short grace it is cut, and its page still ends
// with a summary. Serve returns in both cases.
func TestShutdown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		want  string
	}{
		{"finishes", 10 * time.Second, "smtp.greeting-timeout"},
		{"cut", 300 * time.Millisecond, `class="final"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := slowWorld(t)
			srv, err := serve.New(serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
			if err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx, l, tc.grace) }()
			resp, err := http.Get("http://" + l.Addr().String() + "/check/slow.test")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			started := time.Now()
			readUntil(t, resp.Body, &buf, `data-part="mx"`, started)
			stop() // SIGTERM
			readUntil(t, resp.Body, &buf, "</html>", started)
			if !strings.Contains(buf.String(), tc.want) || !strings.Contains(buf.String(), `class="final"`) {
				t.Errorf("page after shutdown lacks %q:\n%s", tc.want, buf.String())
			}
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return")
			}
			if _, err := http.Get("http://" + l.Addr().String() + "/"); err == nil {
				t.Error("still answering after shutdown")
			}
		})
	}
}
