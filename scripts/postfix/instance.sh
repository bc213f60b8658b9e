#!/usr/bin/env bash
# Starts or stops a private Postfix instance for mxray's real-peer tests.
#
#   instance.sh start DIR   DIR holds etc/main.cf, etc/master.cf, resolv.conf, hosts
#   instance.sh stop DIR
#
# Postfix resolves names through libc, which reads /etc/resolv.conf and only
# ever talks to port 53. To point it at the test's DNS server without touching
# the machine's resolver, the master daemon is started inside a private mount
# namespace in which DIR/resolv.conf (and a minimal DIR/hosts) are bind-mounted
# over /etc/resolv.conf and /etc/hosts. Every daemon the master forks inherits
# that namespace; the rest of the machine never sees the bind mounts. Needs
# root (mount namespaces, and Postfix's master runs as root).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ] || [ ! -f "$dir/etc/main.cf" ]; then
	echo "usage: $0 start|stop DIR (DIR/etc/main.cf must exist)" >&2
	exit 2
fi
dir="$(cd "$dir" && pwd)"

case "$cmd" in
start)
	for f in resolv.conf hosts; do
		[ -f "$dir/$f" ] || { echo "$0: $dir/$f missing" >&2; exit 2; }
	done
	# The queue directory must exist (root-owned); "postfix start" creates
	# its subdirectories. The data directory belongs to mail_owner.
	install -d -m 0755 "$dir/spool"
	install -d -m 0700 -o postfix -g postfix "$dir/data"
	exec unshare --mount --propagation private -- /bin/sh -ec '
		mount --bind "$1/resolv.conf" /etc/resolv.conf
		mount --bind "$1/hosts" /etc/hosts
		exec /usr/sbin/postfix -c "$1/etc" start
	' instance.sh "$dir"
	;;
stop)
	exec /usr/sbin/postfix -c "$dir/etc" stop
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
