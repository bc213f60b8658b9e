package serve_test

// Real-browser tests: Debian's Chromium, driven with
// github.com/chromedp/chromedp over the DevTools protocol, loads the pages
// from a server on loopback. scripts/install-peers.sh installs Chromium;
// where it is missing these tests fail under CI=true and skip loudly
// elsewhere. A screenshot of a result page is written to
// $MXRAY_TEST_ARTIFACTS (default: the test's temporary directory).

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/serve"
)

// browser starts a headless Chromium for the test: as root it needs
// --no-sandbox; without the background-networking flags it tries to reach
// Google's services, and the host resolver rules make any name other
// than loopback fail instead of being looked up.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "CHROMIUM NOT AVAILABLE: the real-browser tests did not run; install it with 'bash scripts/install-peers.sh' (Debian's chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "#### "+msg)
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// artifact writes a test artifact and says where.
func artifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("MXRAY_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact: %s", p)
	return p
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestBrowserCheckDomain: a visitor types a domain of the test world into
// the one input, submits, and sees the findings: every part in its slot
// in report order, the summary at the top. The page is screenshot.
func TestBrowserCheckDomain(t *testing.T) {
	ctx := browser(t)
	_, hs := demo(t, true, nil)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/demo/"),
		chromedp.SetValue(chromedp.CSS("#q"), "broken.example"),
		chromedp.Click(chromedp.CSS("form.ask button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#summary-slot #final")),
	), "submitting broken.example")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, err, "reading the page")
	for _, want := range []string{"Mail domain check: broken.example", "Summary:", "spf.lookup-limit", "smtp.open-relay", "dnsbl.listed",
		"SPF include tree", "DMARC tree walk", "SMTP transcript", "Blocklist answers"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#slots section.sec")).map(s => s.id)`))
	must(t, err, "reading the order")
	if len(order) < 10 || order[0] != "sec-mx" || order[len(order)-1] != "sec-dnsbl" {
		t.Errorf("sections in the page's order: %v, want mx first and dnsbl last", order)
	}
	pending, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".pending").length`))
	must(t, err, "counting pending slots")
	if pending != 0 {
		t.Errorf("%d parts still say running", pending)
	}
	// Evidence is folded until asked for.
	open, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".findings details[open]").length`))
	must(t, err, "counting open details")
	if open != 0 {
		t.Errorf("%d findings unfolded before asked", open)
	}
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sec-spf .findings details summary"))), "unfolding a finding")
	copyRecord(t, ctx, hs.URL)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err, "screenshot")
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	artifact(t, "check-broken.example.png", shot)
}

// copyRecord: the copy button of the first record to publish puts the
// record on the clipboard.
func copyRecord(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin})
		must(t, err, "granting "+name)
	}
	record, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const b = document.querySelector("#slots button.copy");
		b.closest("details").open = true;
		return document.getElementById(b.dataset.copy).textContent;
	})()`))
	must(t, err, "finding a record to publish")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#slots button.copy")),
		chromedp.WaitVisible(chromedp.Search(`//button[text()="Copied"]`))), "clicking Copy")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	must(t, err, "reading the clipboard")
	if got != record || record == "" {
		t.Errorf("clipboard %q, want the record %q", got, record)
	}
}

// TestBrowserExplainBounce: a pasted bounce gets its reason.
func TestBrowserExplainBounce(t *testing.T) {
	ctx := browser(t)
	_, hs := demo(t, false, nil)
	bounce := "This is the mail system at host mx.broken.example.\n\n" +
		"I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n" +
		"<nobody@healthy.example>: host mx1.healthy.example[81.2.69.160] said: 550 5.1.1\n" +
		"    <nobody@healthy.example>: Recipient address rejected: User unknown in\n    virtual mailbox table (in reply to RCPT TO command)\n"
	text := pasteOnHome(t, ctx, hs.URL+"/demo/", bounce, "explaining a bounce")
	for _, want := range []string{"Explanation of", "nobody@healthy.example", "userunknown", "550"} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}

// TestBrowserExplainLog: a pasted log excerpt shows the input, then one
// section a group of events, in report order, each with its example line.
func TestBrowserExplainLog(t *testing.T) {
	ctx := browser(t)
	_, hs := demo(t, false, nil)
	text := pasteOnHome(t, ctx, hs.URL+"/demo/", pastedLog, "explaining a log excerpt")
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#slots section.sec")).map(s => s.id)`))
	must(t, err, "listing the sections")
	if strings.Join(ids, " ") != "sec-explain sec-explain.group.1 sec-explain.group.2" {
		t.Errorf("sections %q", ids)
	}
	for _, want := range []string{"(mail log), 4 lines", "refused by this server: blocked", "remote IPs: 81.2.69.180 (1)",
		"example (line 2): Nov 26 10:00:01 mx postfix/smtpd[123]: NOQUEUE: reject", "refused by remote servers: userunknown"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
}

// pasteOnHome pastes text into the home page's one input, submits it,
// waits for the finished result and returns the page's text.
func pasteOnHome(t *testing.T, ctx context.Context, home, text, what string) string {
	t.Helper()
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(home),
		chromedp.SetValue(chromedp.CSS("#q"), text),
		chromedp.Click(chromedp.CSS("form.ask button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#summary-slot #final")),
	), what)
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, err, "reading the page")
	return page
}

// TestBrowserPreflight: the preflight form runs a preflight and shows its
// provider table.
func TestBrowserPreflight(t *testing.T) {
	ctx := browser(t)
	_, hs := demo(t, false, nil)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/demo/preflight"),
		chromedp.SetValue(chromedp.CSS("#from"), "news@healthy.example"),
		chromedp.SetValue(chromedp.CSS("#ips"), "81.2.69.160"),
		chromedp.Click(chromedp.CSS("form.ask button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#summary-slot #final")),
	), "running a preflight")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, err, "reading the page")
	for _, want := range []string{"Preflight for", "Gmail", "Yahoo", "Microsoft"} {
		if !strings.Contains(text, want) {
			t.Errorf("preflight page lacks %q", want)
		}
	}
}

// TestBrowserHostileBanner: a banner carrying markup, an event handler
// and terminal escapes is shown as text and never executed.
func TestBrowserHostileBanner(t *testing.T) {
	ctx := browser(t)
	raw := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		c.Send(`220-<script>window.pwned=1;document.title="pwned"</script>`,
			`220-<img src=x onerror="window.pwned=2"><b onmouseover=alert(1)>bold</b>`,
			"220 \x1b[2J\x1b]0;owned\x07 ESMTP ready")
		c.Session()
	})
	w, _ := zoneWorld(t, "x.test. IN SOA ns hostmaster 1 3600 600 86400 300\n", nil)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/smtp/"+raw.Addr),
		chromedp.WaitVisible(chromedp.CSS("#summary-slot #final")),
	), "probing the hostile server")
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pwned !== undefined || document.title === "pwned" || document.querySelector("main img, main b") !== null`))
	must(t, err, "looking for executed markup")
	if pwned {
		t.Fatal("markup from the banner was executed or rendered")
	}
	transcript, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(".transcript pre")))
	must(t, err, "reading the transcript")
	for _, want := range []string{`<script>window.pwned=1;document.title="pwned"</script>`, `<img src=x onerror="window.pwned=2">`, `\x1b[2J`, `owned\a ESMTP`} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript does not show %q as text:\n%s", want, transcript)
		}
	}
	smtptest.AssertNoMessage(t, raw.Rec)
}

// TestBrowserPhoneDarkMode: on a phone in dark mode the page fits the
// screen and uses the dark colours.
func TestBrowserPhoneDarkMode(t *testing.T) {
	ctx := browser(t)
	_, hs := demo(t, false, nil)
	must(t, chromedp.Do(ctx,
		chromedp.Emulate(device.IPhone11),
		func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return chromedp.Void{}, err
		},
		chromedp.Navigate(hs.URL+"/demo/check/healthy.example"),
		chromedp.WaitVisible(chromedp.CSS("#summary-slot #final")),
	), "loading on a phone")
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth + 1`))
	must(t, err, "measuring")
	if !fits {
		t.Error("the page is wider than the phone's screen")
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	must(t, err, "reading the background")
	if bg != "rgb(18, 19, 22)" {
		t.Errorf("background in dark mode: %s", bg)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err, "screenshot")
	artifact(t, "check-healthy.example-phone-dark.png", shot)
}
