#!/bin/sh
# record.sh re-records the greetings under detect/testdata/<proto>/ from
# the Debian daemons themselves: each is started by hand, with a config
# and data directory of its own under a temporary directory, inside a
# network namespace that has only lo, and grab (testdata/record/grab)
# reads what it sends first from 127.0.0.1 (127.0.0.2 for MariaDB's
# refusal). Nothing is started outside the namespace, and every process
# started is stopped by its id.
#
# Run as root, from anywhere:
#
#	detect/testdata/record.sh [PROTO...]
#
# with, installed without letting their services start (a policy-rc.d
# that exits 101):
#
#	apt-get install --no-install-recommends openssh-server vsftpd \
#	    exim4-daemon-light dovecot-imapd dovecot-pop3d mariadb-server \
#	    rsync inn2 ngircd inetutils-telnetd tigervnc-standalone-server socat
#
# ProFTPD and Pure-FTPd conflict with vsftpd (all three provide
# ftp-server), so they are not installed: set EXTRACTED to a directory
# where their packages (proftpd-core, pure-ftpd, and proftpd's
# libhiredis0.14 libmemcached11 libmemcachedutil2 libhashkit2
# libpcre2-posix3) were unpacked with dpkg -x, and they are run from
# there; without it they are skipped. inn2's postinst fails without a
# domain name, but leaves nnrpd unpacked, which is all this needs.
#
# Only the files named *-debian.bin come from here; the others beside
# them are written by hand from the banners the products document, for
# what Debian does not ship or cannot install beside the recorded ones.
#
# Greetings carry the time, random challenges and the daemons' versions,
# so a new recording differs from the committed one; `go test ./detect
# -update` then rewrites the parsed goldens beside it.
set -eu

[ "$(id -u)" = 0 ] || { echo "record.sh: run as root" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
ns=portscan-detect-rec
T=$(mktemp -d /tmp/portscan-record.XXXXXX)
chmod 755 "$T"
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	# What the daemons forked lives on in the namespace: stop it by id.
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
(cd "$here/record/grab" && go build -o "$T/grab" .)

# start NAME CMD...: run a daemon in the namespace, in the foreground.
start() {
	name=$1
	shift
	ip netns exec "$ns" "$@" >"$T/$name.log" 2>&1 &
	pids="$pids $!"
}

# stop: stop the daemons started so far (ports are reused).
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	pids=""
	for p in $(ip netns pids "$ns"); do kill "$p" 2>/dev/null || true; done
	sleep 0.5
}

# record FILE PORT [GRAB-FLAGS...]: what the server on PORT sends first.
record() {
	out=$1
	port=$2
	shift 2
	mkdir -p "$(dirname "$here/$out")"
	if ip netns exec "$ns" "$T/grab" -addr "127.0.0.1:$port" "$@" >"$T/out"; then
		mv "$T/out" "$here/$out"
		echo "recorded $out ($(wc -c <"$here/$out") bytes)"
	else
		echo "record.sh: nothing recorded for $out; the daemon's log:" >&2
		tail -5 "$T"/*.log >&2 || true
	fi
}

want() {
	[ $# -eq 0 ] && return 0
	for w; do [ "$w" = "$proto" ] && return 0; done
	return 1
}

ssh() {
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_ed25519_key"
	mkdir -p /run/sshd
	cat >"$T/sshd_config" <<-EOF
		Port 22
		ListenAddress 127.0.0.1
		HostKey $T/ssh_host_ed25519_key
		PidFile $T/sshd.pid
		UsePAM no
	EOF
	start sshd /usr/sbin/sshd -D -e -f "$T/sshd_config"
	record ssh/openssh-debian.bin 22
	stop
}

ftp() {
	mkdir -p "$T/vsftpd-empty"
	cat >"$T/vsftpd.conf" <<-EOF
		listen=YES
		listen_address=127.0.0.1
		listen_port=21
		background=NO
		anonymous_enable=NO
		local_enable=NO
		xferlog_enable=NO
		secure_chroot_dir=$T/vsftpd-empty
		vsftpd_log_file=$T/vsftpd.xferlog
	EOF
	# With no access enabled, vsftpd refuses every client in its greeting.
	start vsftpd /usr/sbin/vsftpd "$T/vsftpd.conf"
	record ftp/vsftpd-oops-debian.bin 21
	stop
	sed -i 's/^local_enable=NO/local_enable=YES/' "$T/vsftpd.conf"
	start vsftpd /usr/sbin/vsftpd "$T/vsftpd.conf"
	record ftp/vsftpd-debian.bin 21
	stop
	[ -n "${EXTRACTED:-}" ] || { echo "record.sh: EXTRACTED not set: ProFTPD and Pure-FTPd skipped" >&2; return 0; }
	# ProFTPD as Debian's packaged proftpd.conf names its server.
	cat >"$T/proftpd.conf" <<-EOF
		ServerName "Debian"
		ServerType standalone
		DefaultServer on
		Port 21
		DefaultAddress 127.0.0.1
		SocketBindTight on
		UseIPv6 off
		User nobody
		Group nogroup
		PidFile $T/proftpd.pid
		ScoreboardFile $T/proftpd.scoreboard
		DelayTable $T/proftpd.delay
		SystemLog $T/proftpd.syslog
		TransferLog none
		WtmpLog off
	EOF
	start proftpd env LD_LIBRARY_PATH="$EXTRACTED/usr/lib/x86_64-linux-gnu" \
		"$EXTRACTED/usr/sbin/proftpd" -n -c "$T/proftpd.conf"
	record ftp/proftpd-debian.bin 21
	stop
	start pure-ftpd "$EXTRACTED/usr/sbin/pure-ftpd" -S 127.0.0.1,21 -E -g "$T/pure-ftpd.pid"
	record ftp/pure-ftpd-debian.bin 21
	stop
}

smtp() {
	mkdir -p "$T/exim/spool" "$T/exim/log"
	cat >"$T/exim.conf" <<-EOF
		primary_hostname = mail.example.net
		daemon_smtp_ports = 25
		local_interfaces = 127.0.0.1
		spool_directory = $T/exim/spool
		log_file_path = $T/exim/log/%slog
		pid_file_path = $T/exim.pid
		exim_user = root
		exim_group = root
		never_users =
	EOF
	start exim /usr/sbin/exim4 -C "$T/exim.conf" -bdf -q1h
	record smtp/exim-debian.bin 25
	stop
}

dovecot() {
	mkdir -p "$T/dovecot"
	cat >"$T/dovecot.conf" <<-EOF
		protocols = imap pop3
		listen = 127.0.0.1
		base_dir = $T/dovecot/run
		state_dir = $T/dovecot/state
		log_path = $T/dovecot/log
		ssl = no
		default_internal_user = dovecot
		default_login_user = dovenull
		passdb {
		  driver = static
		  args = password=unused
		}
		userdb {
		  driver = static
		  args = uid=nobody gid=nogroup home=/nonexistent
		}
	EOF
	start dovecot /usr/sbin/dovecot -F -c "$T/dovecot.conf"
	record imap/dovecot-debian.bin 143
	record pop3/dovecot-debian.bin 110
	stop
}

mysql() {
	mariadb-install-db --no-defaults --datadir="$T/mysql" --user=root \
		--skip-test-db >"$T/mariadb-install.log" 2>&1
	start mariadb /usr/sbin/mariadbd --no-defaults --datadir="$T/mysql" \
		--socket="$T/mysql.sock" --port=3306 --bind-address=127.0.0.1 \
		--user=root --pid-file="$T/mysql.pid" --log-error="$T/mysql.err"
	record mysql/mariadb-debian.bin 3306
	# root@localhost is the only account: from 127.0.0.2 the server
	# refuses the host before the handshake.
	record mysql/mariadb-host-not-allowed.bin 3306 -local 127.0.0.2
	stop
}

rsync() {
	mkdir -p "$T/rsync-data"
	cat >"$T/rsyncd.conf" <<-EOF
		pid file = $T/rsyncd.pid
		use chroot = no
		[data]
		path = $T/rsync-data
	EOF
	start rsync /usr/bin/rsync --daemon --no-detach --config="$T/rsyncd.conf" \
		--address=127.0.0.1 --port=873
	record rsync/rsync-debian.bin 873
	stop
}

nntp() {
	# nnrpd, INN's reader daemon, with the packaged configuration but for
	# inn.conf's paths, and readers.conf letting 127.0.0.1 read.
	mkdir -p "$T/inn/etc" "$T/inn/run" "$T/inn/log" "$T/inn/spool/overview"
	cp /etc/news/* "$T/inn/etc/" 2>/dev/null || true
	cat >"$T/inn/etc/inn.conf" <<-EOF
		domain: example.net
		pathhost: news.example.net
		mta: "/usr/sbin/sendmail -oi -oem %s"
		hismethod: hisv6
		ovmethod: tradindexed
		enableoverview: true
		pathnews: /usr/lib/news
		pathetc: $T/inn/etc
		pathrun: $T/inn/run
		pathlog: $T/inn/log
		pathspool: $T/inn/spool
		pathdb: $T/inn/spool
		pathoverview: $T/inn/spool/overview
		pathtmp: $T/inn/run
		runasuser: root
		runasgroup: root
	EOF
	cat >"$T/inn/etc/readers.conf" <<-EOF
		auth "local" {
		    hosts: "127.0.0.1"
		    default: "<local>"
		}
		access "local" {
		    users: "<local>"
		    newsgroups: "*"
		}
	EOF
	: >"$T/inn/spool/active"
	: >"$T/inn/spool/history"
	export INNCONF="$T/inn/etc/inn.conf"
	# Without its overview database nnrpd refuses readers in its greeting.
	start nnrpd /usr/lib/news/bin/nnrpd -D -f -b 127.0.0.1 -p 119
	record nntp/inn-nnrpd-unavailable-debian.bin 119
	stop
	/usr/lib/news/bin/makehistory -O -x -F >"$T/makehistory.log" 2>&1
	start nnrpd /usr/lib/news/bin/nnrpd -D -f -b 127.0.0.1 -p 119
	record nntp/inn-nnrpd-debian.bin 119
	stop
	unset INNCONF
}

irc() {
	cat >"$T/ngircd.conf" <<-EOF
		[Global]
		Name = irc.example.net
		Info = portscan recording
		Listen = 127.0.0.1
		Ports = 6667
		PidFile = $T/ngircd.pid
		MotdPhrase = "recording"
		[Options]
		DNS = yes
		Ident = no
		PAM = no
		NoticeBeforeRegistration = yes
	EOF
	start ngircd /usr/sbin/ngircd -n -f "$T/ngircd.conf"
	record irc/ngircd-debian.bin 6667
	stop
}

telnet() {
	# telnetd is run by inetd, on the accepted socket; socat plays inetd.
	start telnetd socat TCP-LISTEN:23,bind=127.0.0.1,reuseaddr,fork EXEC:/usr/sbin/telnetd,nofork
	record telnet/inetutils-debian.bin 23
	stop
}

vnc() {
	start xtigervnc /usr/bin/Xtigervnc :59 -rfbport 5900 -interface 127.0.0.1 \
		-SecurityTypes None -nolisten tcp -listen unix -auth "$T/Xauthority"
	record vnc/tigervnc-debian.bin 5900
	stop
}

for proto in ssh ftp smtp dovecot mysql rsync nntp irc telnet vnc; do
	want "$@" && "$proto"
done
