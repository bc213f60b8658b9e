//go:build linux

package probe_test

// The Postfix harness: a private instance of Debian's Postfix, started for
// one test and stopped when it ends, that resolves names through the test's
// own DNS server (dnstest) so that its DNSBL, PTR and forward lookups see
// the zone fixture and nothing else.
//
//   - scripts/install-peers.sh installs the Postfix programs (CI runs it as
//     root before the tests);
//   - scripts/postfix/main.cf.in and master.cf.in are rendered into a fresh
//     directory: config, queue and data directories, the recipient map, a
//     TLS certificate issued by a CA made here, the Postfix log
//     (maillog_file, written by postlogd);
//   - dnstest serves the zone on 127.0.1.225:53, named in that directory's
//     resolv.conf; scripts/postfix/instance.sh bind-mounts it over
//     /etc/resolv.conf inside a private mount namespace and starts the
//     master daemon there, so the machine's resolver is never touched;
//   - smtpd listens on 127.0.1.25:25, the same smtpd with
//     smtpd_delay_reject = no on 127.0.1.26:25, postscreen in front of smtpd
//     on 127.0.1.27:25, and nowhere else; clients dial from 127.0.1.x
//     addresses that the zone lists, names or leaves without a PTR;
//   - a file lock serialises test processes (the addresses are fixed), and
//     t.Cleanup stops the master daemon even when the test fails (its
//     directory is then kept, with the log, for inspection).
//
// Postfix needs root. Without it, or without Postfix, the test skips with a
// loud "POSTFIX NOT AVAILABLE" message — except under CI=true, where it
// fails: CI must test against the real peer.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/mxray/mxray/dnscheck/dnstest"
)

const (
	postfixListen   = "127.0.1.25"      // smtpd's address (port 25)
	postfixEarly    = "127.0.1.26"      // the same smtpd with smtpd_delay_reject = no
	postfixScreen   = "127.0.1.27"      // postscreen in front of smtpd
	postfixRate     = "127.0.1.28"      // smtpd with a connection rate limit of 1/min
	postfixBadTLS   = "127.0.1.29"      // smtpd whose certificate files are missing
	postfixDNS      = "127.0.1.225:53"  // dnstest, named in the resolv.conf Postfix sees
	postfixHostname = "mx.postfix.test" // myhostname: banner, EHLO, certificate
	postfixDomain   = "postfix.test"    // mydestination, with the recipient map
	postfixDNSBL    = "bl.dnsbl.test"   // reject_rbl_client zone
	// postfixLock serialises test processes that want the fixed addresses
	// (two engineers running ./probe/... at once, or go test -count=N).
	postfixLock = "mxray-postfix-peer.lock"
	// postfixLast names the directory of the instance last started, so that
	// an instance orphaned by a killed test run can be stopped.
	postfixLast = "mxray-postfix-peer.dir"
)

// lockPath places the lock and state files in /run/lock (machine-wide,
// cleared at boot), or the temporary directory where there is none.
func lockPath(name string) string {
	if fi, err := os.Stat("/run/lock"); err == nil && fi.IsDir() {
		return filepath.Join("/run/lock", name)
	}
	return filepath.Join(os.TempDir(), name)
}

// postfixPeer is a running private Postfix instance.
type postfixPeer struct {
	Dir     string // config in Dir/etc, queue in Dir/spool, log in Dir/maillog
	Addr    string // "127.0.1.25:25"
	Early   string // "127.0.1.26:25": smtpd_delay_reject = no
	Screen  string // "127.0.1.27:25": postscreen, then smtpd
	Rate    string // "127.0.1.28:25": one connection per client per minute
	BadTLS  string // "127.0.1.29:25": STARTTLS offered, certificate missing
	Version string // mail_version, e.g. "3.7.11"
	DNS     *dnstest.Server
	Roots   *x509.CertPool // verifies the instance's certificate for postfixHostname
	repo    string
}

// postfixUnavailable skips — or, under CI=true, fails — with a message no
// one can miss.
func postfixUnavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "POSTFIX NOT AVAILABLE: " + fmt.Sprintf(format, args...) + " — run scripts/install-peers.sh as root, then the tests as root"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the real-peer tests must run in CI)")
	}
	t.Skip(msg)
}

// startPostfix starts dnstest on postfixDNS with zone and a Postfix instance
// configured by scripts/postfix/, waits until it greets, and registers its
// shutdown with t.Cleanup (which runs even when the test fails).
func startPostfix(t testing.TB, zone string, recipients []string) *postfixPeer {
	t.Helper()
	if os.Geteuid() != 0 {
		postfixUnavailable(t, "not running as root (Postfix's master and port 25 need it)")
	}
	for _, p := range []string{"/usr/sbin/postfix", "/usr/sbin/postconf", "/usr/sbin/postqueue", "/usr/lib/postfix/sbin/master"} {
		if _, err := os.Stat(p); err != nil {
			postfixUnavailable(t, "%s missing (Postfix is not installed)", p)
		}
	}
	for _, p := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(p); err != nil {
			postfixUnavailable(t, "%s(8) missing", p)
		}
	}
	out, err := exec.Command("/usr/sbin/postconf", "-d", "-h", "mail_version").Output()
	if err != nil {
		postfixUnavailable(t, "postconf -d mail_version: %v", err)
	}
	pf := &postfixPeer{
		Addr:    net.JoinHostPort(postfixListen, "25"),
		Early:   net.JoinHostPort(postfixEarly, "25"),
		Screen:  net.JoinHostPort(postfixScreen, "25"),
		Rate:    net.JoinHostPort(postfixRate, "25"),
		BadTLS:  net.JoinHostPort(postfixBadTLS, "25"),
		Version: strings.TrimSpace(string(out)),
	}
	pf.repo, err = filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}

	lockPostfix(t)
	stopOrphan(t)

	// A directory every Postfix daemon (running as user postfix) can
	// traverse: t.TempDir is 0700.
	dir, err := os.MkdirTemp("", "mxray-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	pf.Dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockPath(postfixLast), []byte(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pf.stop(t)
		if t.Failed() {
			t.Logf("Postfix instance kept for inspection: %s (log: %s)", dir, filepath.Join(dir, "maillog"))
			return
		}
		_ = os.Remove(lockPath(postfixLast))
		_ = os.RemoveAll(dir)
	})

	// Nothing may answer on the listener addresses before the instance
	// starts: a system MTA bound to *:25 would take them, and the test would
	// talk to it instead.
	listeners := []string{pf.Addr, pf.Early, pf.Screen, pf.Rate, pf.BadTLS}
	for _, addr := range listeners {
		if c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
			c.Close()
			t.Fatalf("%s already accepts connections before the test's Postfix starts (a system MTA listening on *:25?)", addr)
		}
	}

	pf.DNS = dnstest.StartAt(t, postfixDNS, zone)
	pf.writeConfig(t, recipients)

	cmd := exec.Command("bash", filepath.Join(pf.repo, "scripts/postfix/instance.sh"), "start", dir)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	t0 := time.Now()
	defer func() { t.Logf("Postfix %s started in %v", pf.Version, time.Since(t0).Round(time.Millisecond)) }()
	if err := runWithin(cmd, 30*time.Second); err != nil {
		t.Fatalf("starting Postfix: %v\n%s\nPostfix log:\n%s", err, buf.String(), pf.Log())
	}
	if pf.masterPID() == 0 {
		t.Fatalf("no Postfix master running after start:\n%s\nPostfix log:\n%s", buf.String(), pf.Log())
	}
	for _, addr := range listeners {
		if addr == pf.Screen {
			continue // postscreen's greeting test would hold the check 2 s
		}
		if err := waitGreeting(addr, 20*time.Second); err != nil {
			t.Fatalf("Postfix did not greet on %s: %v\nPostfix log:\n%s", addr, err, pf.Log())
		}
	}
	return pf
}

// lockPostfix holds an exclusive lock on postfixLock until the test ends.
func lockPostfix(t testing.TB) {
	t.Helper()
	path := lockPath(postfixLock)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock %s: %v", path, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("lock %s (another test run holds the Postfix peer): %v", path, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// stopOrphan stops an instance a previous, killed run left behind (it
// would hold 127.0.1.25:25). Only this harness's own directories qualify.
func stopOrphan(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(lockPath(postfixLast))
	if err != nil {
		return
	}
	dir := strings.TrimSpace(string(b))
	if !strings.HasPrefix(filepath.Base(dir), "mxray-postfix-") {
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "etc/main.cf")); err != nil {
		return
	}
	old := &postfixPeer{Dir: dir}
	if old.masterPID() > 0 {
		t.Logf("stopping the Postfix instance a previous run left in %s", dir)
		old.stop(t)
	}
}

// runWithin runs cmd and kills it if it takes longer than d.
func runWithin(cmd *exec.Cmd, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s: timed out after %v", cmd.Path, d)
	}
}

type postfixTemplate struct {
	Dir, Listen, ListenEarly, ListenScreen, ListenRate, ListenBrokenTLS, Hostname, Domain, Mynetworks, DNSBLZone string
}

// writeConfig renders scripts/postfix/*.in into Dir/etc and writes the
// recipient map, the certificate, resolv.conf and hosts.
func (pf *postfixPeer) writeConfig(t testing.TB, recipients []string) {
	t.Helper()
	etc := filepath.Join(pf.Dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	data := postfixTemplate{
		Dir: pf.Dir, Listen: postfixListen, ListenEarly: postfixEarly, ListenScreen: postfixScreen,
		ListenRate: postfixRate, ListenBrokenTLS: postfixBadTLS, Hostname: postfixHostname, Domain: postfixDomain,
		// TEST-NET-1 (RFC 5737): no probe address is in mynetworks, so
		// nothing may relay.
		Mynetworks: "192.0.2.1/32",
		DNSBLZone:  postfixDNSBL,
	}
	for _, name := range []string{"main.cf", "master.cf"} {
		src := filepath.Join(pf.repo, "scripts/postfix", name+".in")
		tmpl, err := template.New(name).Option("missingkey=error").ParseFiles(src)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, filepath.Base(src), data); err != nil {
			t.Fatalf("render %s: %v", src, err)
		}
		writeFile(t, filepath.Join(etc, name), b.Bytes(), 0o644)
	}
	var rm strings.Builder
	for _, r := range recipients {
		fmt.Fprintf(&rm, "%s OK\n", r)
	}
	writeFile(t, filepath.Join(etc, "recipients"), []byte(rm.String()), 0o644)

	certPEM, keyPEM, roots := issueCert(t, postfixHostname)
	writeFile(t, filepath.Join(etc, "cert.pem"), certPEM, 0o644)
	writeFile(t, filepath.Join(etc, "key.pem"), keyPEM, 0o600)
	pf.Roots = roots

	host, _, _ := net.SplitHostPort(postfixDNS)
	// One attempt of 2 s each: dnstest answers at once unless a fault says
	// otherwise, and a stuck lookup must not outlast the test.
	writeFile(t, filepath.Join(pf.Dir, "resolv.conf"), []byte("nameserver "+host+"\noptions timeout:2 attempts:1\n"), 0o644)
	// Only localhost in /etc/hosts: every 127.0.1.x client is resolved
	// through DNS, as a real client's address is.
	writeFile(t, filepath.Join(pf.Dir, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
}

func writeFile(t testing.TB, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

// issueCert makes a CA and a leaf certificate for host, valid now.
func issueCert(t testing.TB, host string) (certPEM, keyPEM []byte, roots *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mxray test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		// 90 days, like an ACME certificate: not "expiring" for the probe.
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(ca)
	// Postfix wants the chain in the cert file: leaf, then the issuer.
	certPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), roots
}

// waitGreeting waits for the 220 greeting at addr, from 127.0.0.1 (not one
// of the scenario addresses).
func waitGreeting(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			tp := textproto.NewConn(conn)
			_, _, err = tp.ReadResponse(220)
			if err == nil {
				_ = tp.PrintfLine("QUIT")
				_, _, _ = tp.ReadResponse(221)
				tp.Close()
				return nil
			}
			tp.Close()
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// masterPID is the running master daemon's process id, or 0.
func (pf *postfixPeer) masterPID() int {
	b, err := os.ReadFile(filepath.Join(pf.Dir, "spool/pid/master.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0
	}
	return pid
}

// stop stops the instance and waits for its master daemon to exit; if
// "postfix stop" does not end it within 10 s, the master (a process this
// harness started) is killed.
func (pf *postfixPeer) stop(t testing.TB) {
	pid := pf.masterPID()
	if pid == 0 {
		return
	}
	t0 := time.Now()
	defer func() { t.Logf("Postfix stopped in %v", time.Since(t0).Round(time.Millisecond)) }()
	cmd := exec.Command("/usr/sbin/postfix", "-c", filepath.Join(pf.Dir, "etc"), "stop")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("postfix stop: %v %s", err, out)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	t.Logf("Postfix master %d still running after postfix stop; killing it", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// Log is the Postfix log so far.
func (pf *postfixPeer) Log() string {
	b, err := os.ReadFile(filepath.Join(pf.Dir, "maillog"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// QueueFiles lists every file in the instance's mail queues: a message that
// reached Postfix, even one it then bounced, leaves a queue file behind
// (and the bounce of a delivery attempt another).
func (pf *postfixPeer) QueueFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer", "trace", "saved"} {
		root := filepath.Join(pf.Dir, "spool", q)
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	return files
}

// Postqueue is "postqueue -p" for the instance.
func (pf *postfixPeer) Postqueue(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("/usr/sbin/postqueue", "-c", filepath.Join(pf.Dir, "etc"), "-p").CombinedOutput()
	if err != nil {
		t.Fatalf("postqueue -p: %v\n%s", err, out)
	}
	return string(out)
}

// smtpdSession is what Postfix logged about one client connection.
type smtpdSession struct {
	Client string // "good.client.test[127.0.1.10]" / "unknown[127.0.1.12]"
	IP     string // "127.0.1.10"
	// From the disconnect line: Sent["rcpt"] is how many RCPT the client
	// sent, OK["rcpt"] how many smtpd accepted ("rcpt=1/3": 3 and 1;
	// "rcpt=2": 2 and 2).
	Sent, OK map[string]int
	Raw      string // the disconnect line
}

// parseDisconnect reads Postfix's (≥ 3.0) per-session command summary:
//
//	... postfix-mxray/smtpd[123]: disconnect from good.client.test[127.0.1.10] ehlo=2 starttls=1 mail=1 rcpt=1/3 quit=1 commands=6/8
//
// Each counter is "name=N" or "name=OK/N" (commands accepted / sent);
// smtpd counts every command the client sent, DATA and BDAT included,
// whether it accepted it or not.
func parseDisconnect(line string) (smtpdSession, bool) {
	i := strings.Index(line, "/smtpd[")
	if i < 0 {
		return smtpdSession{}, false
	}
	rest := line[i:]
	j := strings.Index(rest, ": disconnect from ")
	if j < 0 {
		return smtpdSession{}, false
	}
	f := strings.Fields(rest[j+len(": disconnect from "):])
	if len(f) == 0 {
		return smtpdSession{}, false
	}
	s := smtpdSession{Client: f[0], Sent: map[string]int{}, OK: map[string]int{}, Raw: line}
	if a, b := strings.LastIndexByte(f[0], '['), strings.LastIndexByte(f[0], ']'); a >= 0 && b > a {
		s.IP = f[0][a+1 : b]
	}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		okN, all, slash := strings.Cut(v, "/")
		if !slash {
			all = okN
		}
		n, err1 := strconv.Atoi(all)
		m, err2 := strconv.Atoi(okN)
		if err1 != nil || err2 != nil {
			continue
		}
		s.Sent[k], s.OK[k] = n, m
	}
	return s, true
}

// waitSession waits (up to 5 s: postlogd writes asynchronously, and smtpd
// logs after its last reply) until smtpd has logged more than n sessions of
// matching clients, and returns session n (from 0), or nil.
func (pf *postfixPeer) waitSession(n int, match func(ip string) bool) *smtpdSession {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ss := pf.Sessions(match); len(ss) > n {
			return &ss[n]
		}
		if time.Now().After(deadline) {
			return nil
		}
	}
}

// Sessions returns the logged smtpd sessions of the clients that match, in
// log order.
func (pf *postfixPeer) Sessions(match func(ip string) bool) []smtpdSession {
	var out []smtpdSession
	sc := bufio.NewScanner(strings.NewReader(pf.Log()))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if s, ok := parseDisconnect(sc.Text()); ok && match(s.IP) {
			out = append(out, s)
		}
	}
	return out
}
