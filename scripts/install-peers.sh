#!/usr/bin/env bash
# Installs the real peers mxray's tests talk to: Debian's Postfix, and
# Debian's python3-dkim (dkimpy), an independent DKIM signer whose
# signatures dnscheck/dkim/verify_test.go verifies, and Debian's Chromium for
# the browser tests of the web page (serve/).
#
# The tests (probe/postfix_test.go) never use the system's Postfix instance:
# each test run writes its own config_directory, queue_directory and
# data_directory under a temporary directory (templates in scripts/postfix/),
# starts that private instance on a loopback address (127.0.1.25) inside a
# private mount namespace whose /etc/resolv.conf names the test DNS server,
# and stops it when the test ends. So this script only has to put the
# Postfix programs on the machine, and must not leave a daemon listening on
# port 25.
#
# Chromium runs headless in the tests (serve/browser_test.go, through
# chromedp), with a fresh profile per test; nothing is configured here.
#
# Idempotent: when the peers are already installed it checks the tools and
# exits in well under a second. Needs root and Debian's package mirror for
# the first run. Where a peer cannot be installed:
#   - with CI=true in the environment it fails (exit 1): CI must test against
#     the real peers;
#   - elsewhere it prints a loud warning and exits 0; the real-peer tests then
#     skip with "POSTFIX NOT AVAILABLE", "PYTHON3-DKIM NOT AVAILABLE" or
#     "CHROMIUM NOT AVAILABLE".
set -euo pipefail

say() { echo "install-peers: $*" >&2; }

# warn_unavailable PEER TESTS REASON prints the loud warning; with CI=true
# it exits 1.
warn_unavailable() {
	{
		echo "################################################################"
		echo "## install-peers: $1 NOT AVAILABLE: $3"
		echo "## the real-peer tests ($2) will not run."
		echo "## Run 'bash scripts/install-peers.sh' as root on Debian."
		echo "################################################################"
	} >&2
	if [ "${CI:-}" = "true" ]; then
		exit 1
	fi
}

unavailable() {
	warn_unavailable POSTFIX probe/postfix_test.go "$*"
	exit 0
}

# python3-dkim: Debian's dkimpy, with python3-nacl for ed25519 signatures.
# The test runs /usr/bin/python3 (Debian's interpreter, not a pyenv shim).
python_dkim_ready() { /usr/bin/python3 -c 'import dkim, nacl' >/dev/null 2>&1; }

install_python_dkim() {
	if python_dkim_ready; then
		say "python3-dkim already installed"
		return 0
	fi
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		warn_unavailable PYTHON3-DKIM dnscheck/dkim/verify_test.go "not installed, and this is not root on Debian"
		return 0
	fi
	say "installing python3-dkim from Debian"
	if ! { apt-get -o Acquire::Retries=3 -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 -qq -y --no-install-recommends \
			install python3 python3-dkim python3-nacl </dev/null >/dev/null; }; then
		warn_unavailable PYTHON3-DKIM dnscheck/dkim/verify_test.go "apt-get install python3-dkim failed"
		return 0
	fi
	python_dkim_ready || warn_unavailable PYTHON3-DKIM dnscheck/dkim/verify_test.go "installed, but /usr/bin/python3 cannot import dkim and nacl"
}

install_python_dkim

# Chromium for the browser tests (serve/browser_test.go, through chromedp).
chromium_ready() {
	command -v chromium >/dev/null 2>&1 && chromium --version >/dev/null 2>&1
}

install_chromium() {
	if chromium_ready; then
		say "$(chromium --version 2>/dev/null) already installed"
		return 0
	fi
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		warn_unavailable CHROMIUM serve/browser_test.go "not installed, and this is not root on Debian"
		return 0
	fi
	say "installing Chromium from Debian"
	if ! { DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 -qq -y --no-install-recommends \
			install chromium fonts-dejavu-core </dev/null >/dev/null; }; then
		warn_unavailable CHROMIUM serve/browser_test.go "apt-get install chromium failed"
		return 0
	fi
	if ! chromium_ready; then
		warn_unavailable CHROMIUM serve/browser_test.go "chromium installed, but 'chromium --version' fails"
		return 0
	fi
	say "$(chromium --version 2>/dev/null) installed"
}

# Both before Postfix: the Postfix part below ends the script when it is done.
install_chromium

postfix_ready() {
	[ -x /usr/sbin/postfix ] && [ -x /usr/sbin/postconf ] && [ -x /usr/sbin/postqueue ] &&
		[ -x /usr/lib/postfix/sbin/master ] &&
		/usr/sbin/postconf -d -h mail_version >/dev/null 2>&1
}

# The tests run Postfix under "unshare --mount" with a bind-mounted resolv.conf.
check_namespaces() {
	command -v unshare >/dev/null 2>&1 || unavailable "unshare(1) is missing (package util-linux)"
	command -v mount >/dev/null 2>&1 || unavailable "mount(8) is missing (package mount)"
	if [ "$(id -u)" = 0 ] && ! unshare --mount --propagation private true 2>/dev/null; then
		unavailable "'unshare --mount' fails here: this machine does not allow private mount namespaces"
	fi
}

if postfix_ready; then
	check_namespaces
	say "Postfix $(/usr/sbin/postconf -d -h mail_version) already installed"
	exit 0
fi

[ "$(id -u)" = 0 ] || unavailable "Postfix is not installed and this script is not running as root"
command -v apt-get >/dev/null 2>&1 || unavailable "Postfix is not installed and there is no apt-get (not Debian?)"

export DEBIAN_FRONTEND=noninteractive
export APT_LISTCHANGES_FRONTEND=none

# "No configuration": the package installs programs and the postfix user but
# writes no /etc/postfix/main.cf and sets up no system mailer.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# policy-rc.d exit 101 forbids maintainer scripts to start services, so the
# package's postinst never starts a master daemon listening on *:25. Any
# existing policy is put back afterwards.
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then
	backup="$(mktemp /usr/sbin/policy-rc.d.mxray.XXXXXX)"
	cp -p "$policy" "$backup"
fi
restore_policy() {
	if [ -n "$backup" ]; then
		mv -f "$backup" "$policy"
	else
		rm -f "$policy"
	fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by mxray scripts/install-peers.sh during apt-get install\nexit 101\n' >"$policy"
chmod 755 "$policy"

say "installing Postfix from Debian"
apt-get -o Acquire::Retries=3 -qq update ||
	unavailable "apt-get update failed (no package mirror?)"
apt-get -o Acquire::Retries=3 -qq -y --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	install postfix util-linux mount </dev/null >/dev/null ||
	unavailable "apt-get install postfix failed"

postfix_ready || unavailable "postfix installed, but its programs are not where expected"
check_namespaces
say "Postfix $(/usr/sbin/postconf -d -h mail_version) installed"
