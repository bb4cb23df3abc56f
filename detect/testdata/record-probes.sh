#!/bin/sh
# record-probes.sh re-records the answers of Debian's daemons to the
# detection probes of package detect, into detect/testdata/<protocol>/.
# Run it as root from anywhere; it needs the daemons installed without
# starting them:
#
#   printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
#   apt-get install -y --no-install-recommends nginx apache2 lighttpd \
#     redis-server memcached mosquitto postgresql dnsmasq slapd samba \
#     xrdp rabbitmq-server kamailio xvfb xauth openssl python3
#   rm /usr/sbin/policy-rc.d
#
# Every daemon runs by hand inside a network namespace that has only a
# loopback interface, with its configuration and data under a temporary
# directory, and is stopped by its process id; probes go to 127.0.0.1
# only. Then run `go test ./detect -run TestProbeGolden -update` to rewrite
# the goldens, and read the diff.
set -eu

NS=rec2
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/detect/testdata
T=$(mktemp -d /tmp/record-probes.XXXXXX)
chmod 755 "$T"

cleanup() {
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	sleep 1
	# Whatever is left in the namespace was started here.
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$repo" && CGO_ENABLED=0 go build -o "$T/record" ./detect/internal/record)
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

# start NAME CMD...: runs a daemon in the foreground in the namespace.
start() {
	name=$1
	shift
	# Its own session: some daemons signal their whole process group
	# when they stop.
	setsid ip netns exec "$NS" "$@" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
}

# stop NAME: stops the daemon start began, by its pid.
stop() {
	if [ -f "$T/$1.pid" ]; then
		kill "$(cat "$T/$1.pid")" 2>/dev/null || true
		wait "$(cat "$T/$1.pid")" 2>/dev/null || true
		rm -f "$T/$1.pid"
	fi
}

# waitport PROTO PORT: waits for a listener (t: tcp, u: udp).
waitport() {
	for _ in $(seq 100); do
		if ip netns exec "$NS" ss -Hln"$1" "sport = :$2" | grep -q .; then
			return 0
		fi
		sleep 0.2
	done
	echo "record-probes: nothing listens on $2/$1" >&2
	return 1
}

# rec DIR NAME ARGS...: records one answer into testdata/DIR/NAME.bin.
rec() {
	dir=$1
	name=$2
	shift 2
	mkdir -p "$out/$dir"
	if ip netns exec "$NS" "$T/record" -out "$out/$dir/$name.bin" "$@"; then
		echo "recorded $dir/$name"
	else
		echo "record-probes: $dir/$name not recorded" >&2
	fi
}

www=$T/www
mkdir -p "$www"
cp /usr/share/nginx/html/index.html "$www/index.html"

# nginx, in the clear on 80 and with TLS on 443 (a self-signed
# certificate made here).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=recorder.test \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
cat >"$T/nginx.conf" <<EOF
daemon off;
pid $T/nginx.pid.file;
error_log $T/nginx.err;
events {}
http {
	access_log off;
	client_body_temp_path $T/nginx-body;
	proxy_temp_path $T/nginx-proxy;
	fastcgi_temp_path $T/nginx-fcgi;
	uwsgi_temp_path $T/nginx-uwsgi;
	scgi_temp_path $T/nginx-scgi;
	server {
		listen 127.0.0.1:80;
		listen 127.0.0.1:443 ssl;
		ssl_certificate $T/cert.pem;
		ssl_certificate_key $T/key.pem;
		root $www;
	}
	server {
		listen 127.0.0.1:8443 ssl;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate $T/cert.pem;
		ssl_certificate_key $T/key.pem;
		root $www;
	}
}
EOF
start nginx nginx -c "$T/nginx.conf"
waitport t 443
rec http nginx-1.22 -proto http -addr 127.0.0.1:80
rec http nginx-1.22-host -proto http -addr 127.0.0.1:80 -host recorder.test
mkdir -p "$out/ssl"
rec https nginx-1.22-tls12 -proto https -tls -addr 127.0.0.1:443 -host recorder.test \
	-hello "$out/ssl/clienthello-go.req.bin" -serverhello "$out/ssl/nginx-1.22-serverhello-tls12.bin"
rec https nginx-1.22-tls13 -proto https -tls -addr 127.0.0.1:8443 -host recorder.test \
	-hello "$out/ssl/clienthello-go-8443.req.bin" -serverhello "$out/ssl/nginx-1.22-serverhello-tls13.bin"
rm -f "$out/ssl/clienthello-go-8443.req.bin"
stop nginx

# Apache httpd with Debian's default page.
mkdir -p "$T/apache"
cat >"$T/apache.conf" <<EOF
ServerRoot /etc/apache2
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
Listen 127.0.0.1:8081
ServerName recorder.test
PidFile $T/apache/pid
ErrorLog $T/apache/error.log
DefaultRuntimeDir $T/apache
Mutex file:$T/apache
User www-data
Group www-data
DocumentRoot /usr/share/apache2/default-site
<Directory /usr/share/apache2/default-site>
	Require all granted
</Directory>
DirectoryIndex index.html
EOF
start apache apache2 -f "$T/apache.conf" -DFOREGROUND
waitport t 8081
rec http apache-2.4 -proto http -addr 127.0.0.1:8081
stop apache

# lighttpd.
cat >"$T/lighttpd.conf" <<EOF
server.document-root = "$www"
server.bind = "127.0.0.1"
server.port = 8082
server.pid-file = "$T/lighttpd.pid.file"
server.errorlog = "$T/lighttpd.err"
index-file.names = ( "index.html" )
EOF
start lighttpd lighttpd -D -f "$T/lighttpd.conf"
waitport t 8082
rec http lighttpd-1.4 -proto http -addr 127.0.0.1:8082
stop lighttpd

# Python's http.server.
start python python3 -m http.server 8000 --bind 127.0.0.1 --directory "$www"
waitport t 8000
rec http python-simplehttp -proto http -addr 127.0.0.1:8000
stop python

# Redis: open, and with a password.
start redis redis-server --port 6379 --bind 127.0.0.1 --dir "$T" --save '' --appendonly no
start redis-auth redis-server --port 6380 --bind 127.0.0.1 --dir "$T" --save '' --appendonly no --requirepass recorder
waitport t 6379
waitport t 6380
rec redis redis-7.0-info -proto redis -addr 127.0.0.1:6379
rec redis redis-7.0-noauth -proto redis -addr 127.0.0.1:6380
stop redis
stop redis-auth

# memcached.
start memcached memcached -l 127.0.0.1 -p 11211 -U 0 -u nobody
waitport t 11211
rec memcached memcached-1.6 -proto memcached -addr 127.0.0.1:11211
stop memcached

# mosquitto: anonymous clients allowed, then refused.
printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' >"$T/mosquitto.conf"
printf 'listener 1884 127.0.0.1\nallow_anonymous false\npersistence false\n' >"$T/mosquitto-auth.conf"
start mosquitto mosquitto -c "$T/mosquitto.conf"
start mosquitto-auth mosquitto -c "$T/mosquitto-auth.conf"
waitport t 1883
waitport t 1884
rec mqtt mosquitto-2.0-accepted -proto mqtt -addr 127.0.0.1:1883
rec mqtt mosquitto-2.0-not-authorized -proto mqtt -addr 127.0.0.1:1884
stop mosquitto
stop mosquitto-auth

# PostgreSQL 15: SCRAM, a pg_hba.conf reject line, then trust for a
# role that exists (the only way its version shows).
pg=/usr/lib/postgresql/15/bin
mkdir -p "$T/pg"
chown postgres "$T/pg"
echo recorder >"$T/pgpw"
chown postgres "$T/pgpw"
su postgres -s /bin/sh -c "$pg/initdb -D $T/pg/data -U postgres --pwfile=$T/pgpw --auth-host=scram-sha-256 --auth-local=trust" >"$T/initdb.log"
pgrun() {
	start postgres su postgres -s /bin/sh -c "exec $pg/postgres -D $T/pg/data -k $T/pg -c listen_addresses=127.0.0.1 -c port=5432"
	waitport t 5432
}
pghba() { printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "$1" >"$T/pg/data/pg_hba.conf"; }
pgrun
rec postgresql pg15-scram -proto postgresql -addr 127.0.0.1:5432
ip netns exec "$NS" su postgres -s /bin/sh -c "$pg/psql -h $T/pg -U postgres -qc 'create role portscan login'" postgres
stop postgres
pghba reject
pgrun
rec postgresql pg15-reject -proto postgresql -addr 127.0.0.1:5432
stop postgres
pghba trust
pgrun
rec postgresql pg15-trust -proto postgresql -addr 127.0.0.1:5432
stop postgres

# dnsmasq, over TCP and UDP.
start dnsmasq dnsmasq -k --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --pid-file="$T/dnsmasq.pid.file" --user=root
waitport t 53
rec domain dnsmasq-2.90 -proto domain -addr 127.0.0.1:53
mkdir -p "$out/udp"
ip netns exec "$NS" "$T/record" -udp -addr 127.0.0.1:53 -out "$out/udp/53-dnsmasq" || true
stop dnsmasq

# chrony and net-snmp, over UDP.
printf 'allow 127.0.0.1\nlocal stratum 10\nport 123\ncmdport 0\nbindaddress 127.0.0.1\npidfile %s/chrony.pid.file\ndriftfile %s/drift\n' "$T" "$T" >"$T/chrony.conf"
start chronyd chronyd -d -x -u root -f "$T/chrony.conf"
printf 'rocommunity public 127.0.0.1\nagentaddress udp:127.0.0.1:161\n' >"$T/snmpd.conf"
start snmpd snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid.file" --persistentDir="$T"
waitport u 123
waitport u 161
sleep 1
ip netns exec "$NS" "$T/record" -udp -addr 127.0.0.1:123 -out "$out/udp/123-chrony" || true
ip netns exec "$NS" "$T/record" -udp -addr 127.0.0.1:161 -out "$out/udp/161-net-snmp" || true
stop chronyd
stop snmpd

# OpenLDAP's slapd with one database.
mkdir -p "$T/ldap"
cat >"$T/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
pidfile $T/slapd.pid.file
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
directory $T/ldap
EOF
start slapd slapd -d 0 -h ldap://127.0.0.1:389/ -f "$T/slapd.conf"
waitport t 389
rec ldap openldap-2.5-rootdse -proto ldap -addr 127.0.0.1:389
stop slapd

# Samba's smbd on 445 and 139, and nmbd on 137/udp.
s=$T/samba
mkdir -p "$s/private" "$s/lock" "$s/state" "$s/cache" "$s/pid" "$s/ncalrpc"
cat >"$T/smb.conf" <<EOF
[global]
workgroup = RECORDERS
netbios name = RECORDER
server role = standalone server
interfaces = lo
bind interfaces only = yes
smb ports = 445 139
private dir = $s/private
lock directory = $s/lock
state directory = $s/state
cache directory = $s/cache
pid directory = $s/pid
ncalrpc dir = $s/ncalrpc
log file = $s/log.%m
load printers = no
disable spoolss = yes
EOF
start smbd smbd -F --no-process-group --debug-stdout -s "$T/smb.conf"
start nmbd nmbd -F --no-process-group --debug-stdout -s "$T/smb.conf"
waitport t 445
rec microsoft-ds samba-4.17-smb2 -proto microsoft-ds -addr 127.0.0.1:445
rec netbios-ssn samba-4.17-session -proto netbios-ssn -addr 127.0.0.1:139
waitport u 137 && sleep 2 && ip netns exec "$NS" "$T/record" -udp -addr 127.0.0.1:137 -out "$out/udp/137-nmbd" || true
stop smbd
stop nmbd

# xrdp, with the certificate made above.
sed -e "s|^port=3389|port=tcp://127.0.0.1:3389|" -e "s|^certificate=.*|certificate=$T/cert.pem|" \
	-e "s|^key_file=.*|key_file=$T/key.pem|" /etc/xrdp/xrdp.ini >"$T/xrdp.ini"
start xrdp xrdp --nodaemon --config "$T/xrdp.ini"
waitport t 3389 && rec ms-wbt-server xrdp-0.9-tls -proto ms-wbt-server -addr 127.0.0.1:3389
stop xrdp

# RabbitMQ, with its own epmd.
start epmd epmd -address 127.0.0.1
mkdir -p "$T/rabbit"
chown rabbitmq "$T/rabbit" 2>/dev/null || true
start rabbitmq env HOME="$T/rabbit" RABBITMQ_MNESIA_BASE="$T/rabbit/mnesia" RABBITMQ_LOG_BASE="$T/rabbit/log" \
	RABBITMQ_PID_FILE="$T/rabbit/pid" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
	RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 RABBITMQ_ENABLED_PLUGINS_FILE="$T/rabbit/plugins" \
	RABBITMQ_CONFIG_FILE="$T/rabbit/rabbitmq" /usr/lib/rabbitmq/bin/rabbitmq-server
waitport t 5672 && rec amqp rabbitmq-3.10 -proto amqp -addr 127.0.0.1:5672
stop rabbitmq
stop epmd

# Kamailio with Debian's default configuration, on TCP.
start kamailio kamailio -DD -E -f /etc/kamailio/kamailio.cfg -P "$T/kamailio.pid.file" -Y "$T" \
	-l tcp:127.0.0.1:5060 -n 1 -w "$T"
waitport t 5060 && rec sip kamailio-5.6 -proto sip -addr 127.0.0.1:5060
stop kamailio

# Xvfb, open to all, then with an authorization file.
start xvfb-open Xvfb :1 -listen tcp -nolisten unix -ac
waitport t 6001 && rec x11 xvfb-21.1-open -proto x11 -addr 127.0.0.1:6001
stop xvfb-open
xauth -f "$T/xauth" add :2 MIT-MAGIC-COOKIE-1 0123456789abcdef0123456789abcdef
start xvfb-auth Xvfb :2 -listen tcp -nolisten unix -auth "$T/xauth"
waitport t 6002 && rec x11 xvfb-21.1-denied -proto x11 -addr 127.0.0.1:6002
stop xvfb-auth

echo "record-probes: done; now: go test ./detect -run TestProbeGolden -update"
