#!/usr/bin/env bash
# detect.sh measures service detection: it builds a network namespace
# with only lo, starts on 127.0.0.1 inside it whichever of these Debian
# daemons are installed (sshd, vsftpd, nginx with TLS, python3's
# http.server, lighttpd, redis, memcached, dovecot, mariadb, postgresql,
# mosquitto, rsync), then times `portscan -sV -Pn -p PORTS 127.0.0.1` and
# `nmap -sT -sV -n -Pn -p PORTS 127.0.0.1` on them, with hyperfine when
# it is installed (else a few timed runs), prints both and the ratio,
# and checks that portscan named each service. Run it as root; it
# reaches nothing outside the namespace.
#
#   bench/detect.sh            the benchmark
#   bench/detect.sh shell      start the lab and open a shell inside it
#
# Environment:
#   RUNS    timed runs of each scanner (default 3: nmap takes minutes)
#   KEEP=1  leave the namespace at the end (its daemons are ended)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NS=psd-detect
RUNS=${RUNS:-3}
DIR=$(mktemp -d /tmp/portscan-detect.XXXXXX)
# What is expected of each port: "port name [product]".
EXPECT=()

die() {
	echo "detect.sh: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || die "run as root (network namespaces need it)"
command -v ip >/dev/null || die "ip not found: apt-get install -y iproute2"

# cleanup ends every process of the lab's namespace (the daemons and
# their children: all started here), then the namespace.
cleanup() {
	local p sig
	for sig in TERM KILL; do
		for p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -s "$sig" "$p" 2>/dev/null || true
		done
		sleep 0.5
	done
	[[ ${KEEP:-} == 1 ]] || ip netns del "$NS" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

inns() { ip netns exec "$NS" "$@"; }

# start NAME PORT PRODUCT CMD...: run CMD in the namespace, in the
# background, and expect PORT to be named NAME (and PRODUCT, if not -).
start() {
	local name=$1 port=$2 product=$3
	shift 3
	ip netns exec "$NS" setsid "$@" </dev/null >"$DIR/$name-$port.log" 2>&1 &
	disown
	EXPECT+=("$port $name $product")
}

have() { command -v "$1" >/dev/null 2>&1; }

setup_ns() {
	ip netns del "$NS" 2>/dev/null || true
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

daemons_a() {
	if have sshd; then
		ssh-keygen -q -t ed25519 -N '' -f "$DIR/ssh_host_key"
		mkdir -p /run/sshd
		start ssh 22 OpenSSH "$(command -v sshd)" -D -e -f /dev/null -h "$DIR/ssh_host_key" \
			-o ListenAddress=127.0.0.1 -o Port=22 -o PidFile=none
	fi
	if have vsftpd; then
		mkdir -p "$DIR/vsftpd-empty"
		printf '%s\n' listen=YES listen_address=127.0.0.1 listen_port=21 background=NO \
			anonymous_enable=NO local_enable=NO seccomp_sandbox=NO \
			"secure_chroot_dir=$DIR/vsftpd-empty" >"$DIR/vsftpd.conf"
		start ftp 21 vsftpd vsftpd "$DIR/vsftpd.conf"
	fi
	if have nginx; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 20 -subj /CN=localhost \
			-keyout "$DIR/tls.key" -out "$DIR/tls.crt" 2>/dev/null
		mkdir -p "$DIR/nginx/logs"
		cat >"$DIR/nginx/nginx.conf" <<EOF
daemon off; pid $DIR/nginx/nginx.pid; error_log stderr; worker_processes 1;
events {}
http {
	access_log off;
	client_body_temp_path $DIR/nginx; proxy_temp_path $DIR/nginx; fastcgi_temp_path $DIR/nginx;
	uwsgi_temp_path $DIR/nginx; scgi_temp_path $DIR/nginx;
	server { listen 127.0.0.1:80; location / { return 200 "lab\n"; } }
	server { listen 127.0.0.1:443 ssl http2; ssl_certificate $DIR/tls.crt; ssl_certificate_key $DIR/tls.key;
		location / { return 200 "lab\n"; } }
}
EOF
		start http 80 nginx nginx -p "$DIR/nginx" -c nginx.conf
		EXPECT+=("443 ssl/http nginx")
	fi
	if have python3; then
		start http 8000 SimpleHTTPServer python3 -m http.server --bind 127.0.0.1 8000
	fi
	if have lighttpd; then
		printf '%s\n' 'server.document-root = "/tmp"' 'server.port = 8080' 'server.bind = "127.0.0.1"' >"$DIR/lighttpd.conf"
		start http 8080 lighttpd lighttpd -D -f "$DIR/lighttpd.conf"
	fi
	if have redis-server; then
		start redis 6379 Redis redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$DIR"
	fi
	if have memcached; then
		start memcached 11211 Memcached memcached -u root -l 127.0.0.1 -p 11211 -U 0
	fi
}

daemons_b() {
	if have dovecot; then
		mkdir -p "$DIR/dovecot" && chmod 755 "$DIR"
		cat >"$DIR/dovecot.conf" <<EOF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $DIR/dovecot
ssl = no
log_path = $DIR/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = password=lab
}
EOF
		start imap 143 Dovecot dovecot -F -c "$DIR/dovecot.conf"
		EXPECT+=("110 pop3 Dovecot")
	fi
	if have mariadbd && have mariadb-install-db; then
		mariadb-install-db --no-defaults --user=root --datadir="$DIR/mysql" --skip-test-db >"$DIR/mariadb-install.log" 2>&1
		start mysql 3306 MariaDB mariadbd --no-defaults --user=root --datadir="$DIR/mysql" \
			--socket="$DIR/mysql.sock" --bind-address=127.0.0.1 --port=3306 --skip-name-resolve
	fi
	local pg
	pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
	if [[ -n $pg ]] && id postgres >/dev/null 2>&1; then
		mkdir -p "$DIR/pg" && chown postgres "$DIR/pg" && chmod 755 "$DIR"
		setpriv --reuid postgres --regid postgres --init-groups "$pg/initdb" -D "$DIR/pg/data" -A trust >"$DIR/initdb.log" 2>&1
		start postgresql 5432 PostgreSQL setpriv --reuid postgres --regid postgres --init-groups \
			"$pg/postgres" -D "$DIR/pg/data" -c listen_addresses=127.0.0.1 -c port=5432 -c "unix_socket_directories=$DIR/pg"
	fi
	if have mosquitto; then
		printf '%s\n' 'listener 1883 127.0.0.1' 'allow_anonymous true' >"$DIR/mosquitto.conf"
		start mqtt 1883 - mosquitto -c "$DIR/mosquitto.conf"
	fi
	if have rsync; then
		printf '%s\n' 'address = 127.0.0.1' 'port = 873' 'use chroot = no' '[lab]' 'path = /tmp' >"$DIR/rsyncd.conf"
		start rsync 873 - rsync --daemon --no-detach --config="$DIR/rsyncd.conf"
	fi
}

# wait_ports: wait until every expected port takes connections.
wait_ports() {
	local e port i
	for e in "${EXPECT[@]}"; do
		port=${e%% *}
		for ((i = 0; i < 100; i++)); do
			inns bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
			sleep 0.1
		done
		((i < 100)) || die "nothing listens on $port (logs in $DIR)"
	done
}

ports_list() {
	local e out=()
	for e in "${EXPECT[@]}"; do
		out+=("${e%% *}")
	done
	local IFS=,
	echo "${out[*]}"
}

# check JSONL: portscan's detected object names every port as expected
# ("ssl/http" is name http inside TLS), with the product where given.
check() {
	python3 - "$1" "${EXPECT[@]}" <<'PY'
import json, sys
got = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "port":
        got[r["port"]] = r.get("detected") or {}
fail = 0
for e in sys.argv[2:]:
    port, name, product = e.split(" ", 2)
    d = got.get(int(port), {})
    full = (d.get("tunnel") + "/" if d.get("tunnel") else "") + d.get("name", "")
    ok = full == name and (product == "-" or product in d.get("product", ""))
    fail |= not ok
    print("ok    " if ok else "MISSED", port, "want", name, product, "got", full or "nothing", d.get("product", ""), d.get("version", ""))
sys.exit(fail)
PY
}

time_runs() {
	local label=$1 t0 t1 i
	shift
	t0=$(date +%s.%N)
	for ((i = 0; i < RUNS; i++)); do
		inns "$@" >/dev/null 2>&1
	done
	t1=$(date +%s.%N)
	echo "$label $(echo "($t1 - $t0) / $RUNS" | bc -l)"
}

main() {
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$DIR/portscan" ./cmd/portscan)
	setup_ns
	daemons_a
	daemons_b
	wait_ports
	local ports
	ports=$(ports_list)
	if [[ ${1:-} == shell ]]; then
		echo "lab up: ports $ports on 127.0.0.1; portscan is $DIR/portscan; exit the shell to tear it down"
		inns bash
		return
	fi
	echo "== services on 127.0.0.1: $ports"
	inns "$DIR/portscan" -sV -Pn -p "$ports" --format jsonl -oN "$DIR/portscan.txt" 127.0.0.1 >"$DIR/portscan.jsonl"
	cat "$DIR/portscan.txt"
	echo "== check"
	local ok=0
	check "$DIR/portscan.jsonl" || ok=1
	local ps nm
	if have hyperfine; then
		hyperfine -N -r "$RUNS" --export-json "$DIR/hf.json" \
			-n portscan "ip netns exec $NS $DIR/portscan -sV -Pn -p $ports 127.0.0.1" \
			-n nmap "ip netns exec $NS nmap -sT -sV -n -Pn -p $ports 127.0.0.1"
		read -r ps nm < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["mean"], r[1]["mean"])' "$DIR/hf.json")
	else
		read -r _ ps < <(time_runs portscan "$DIR/portscan" -sV -Pn -p "$ports" 127.0.0.1)
		read -r _ nm < <(time_runs nmap nmap -sT -sV -n -Pn -p "$ports" 127.0.0.1)
	fi
	printf '== mean wall time: portscan %.3f s, nmap %.3f s, ratio %.3f (goal: at most 0.2)\n' "$ps" "$nm" "$(echo "$ps / $nm" | bc -l)"
	return $ok
}

main "$@"
