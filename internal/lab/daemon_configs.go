package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The setup of each daemon: its configuration, written into its own
// directory ({dir}), listening on {host}:{port} only.

// maxSocketDir bounds the directory that holds a daemon's Unix sockets:
// sun_path has 108 bytes, and the daemons add names of their own.
const maxSocketDir = 72

func checkSocketDir(dir string) error {
	if len(dir) > maxSocketDir {
		return fmt.Errorf("directory %s is too long for the Unix sockets the daemon makes in it (%d bytes, at most %d): use a shorter test name", dir, len(dir), maxSocketDir)
	}
	return nil
}

func setupSSHD(e *daemonEnv) ([]string, error) {
	keygen, err := lookProg("ssh-keygen")
	if err != nil {
		return nil, err
	}
	if err := e.run(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "portscan-lab", "-f", e.path("host_ed25519")); err != nil {
		return nil, err
	}
	// sshd's privilege separation directory is compiled in; the package
	// makes it at boot, through tmpfiles.d, which a CI container skips.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	err = e.write("sshd_config", `Port {port}
ListenAddress {host}
HostKey {dir}/host_ed25519
PidFile {dir}/sshd.pid
UsePAM no
PermitRootLogin no
`)
	return []string{e.bin, "-D", "-e", "-f", e.path("sshd_config")}, err
}

func setupNginx(e *daemonEnv) ([]string, error) {
	if err := e.mkdir("www", "tmp"); err != nil {
		return nil, err
	}
	if err := e.write("www/index.html", "<!DOCTYPE html>\n<title>portscan lab</title>\n<p>nginx in a lab namespace.\n"); err != nil {
		return nil, err
	}
	listen := "listen {addr};"
	if e.d.TLS {
		c, err := e.cert()
		if err != nil {
			return nil, err
		}
		listen = "listen {addr} ssl;\n\t\tssl_certificate " + c.Cert + ";\n\t\tssl_certificate_key " + c.Key + ";"
	}
	err := e.write("nginx.conf", `daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path {dir}/tmp/body;
	proxy_temp_path {dir}/tmp/proxy;
	fastcgi_temp_path {dir}/tmp/fastcgi;
	uwsgi_temp_path {dir}/tmp/uwsgi;
	scgi_temp_path {dir}/tmp/scgi;
	server {
		`+listen+`
		root {dir}/www;
	}
}
`)
	return []string{e.bin, "-e", "stderr", "-p", e.dir, "-c", e.path("nginx.conf")}, err
}

func setupVSFTPD(e *daemonEnv) ([]string, error) {
	if err := e.mkdir("empty"); err != nil {
		return nil, err
	}
	listen := "listen=YES\nlisten_address={host}\n"
	if e.d.Addr.Addr().Is6() {
		listen = "listen=NO\nlisten_ipv6=YES\nlisten_address6={host}\n"
	}
	// With local users enabled it greets with its name and version;
	// without any access it refuses every client in its greeting.
	err := e.write("vsftpd.conf", listen+`listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
xferlog_enable=NO
secure_chroot_dir={dir}/empty
vsftpd_log_file={dir}/vsftpd.log
`)
	return []string{e.bin, e.path("vsftpd.conf")}, err
}

func setupRedis(e *daemonEnv) ([]string, error) {
	return []string{e.bin, "--port", e.port(), "--bind", e.host(), "--dir", e.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""}, nil
}

func setupMemcached(e *daemonEnv) ([]string, error) {
	return []string{e.bin, "-l", e.host(), "-p", e.port(), "-U", "0", "-u", "root"}, nil
}

func setupMosquitto(e *daemonEnv) ([]string, error) {
	err := e.write("mosquitto.conf", `listener {port} {host}
allow_anonymous true
persistence false
log_dest stderr
`)
	return []string{e.bin, "-c", e.path("mosquitto.conf")}, err
}

// setupPostgres makes a cluster whose superuser is named as package
// detect's probe names its user, trusting every connection, so that the
// server goes on past authentication to tell its version.
func setupPostgres(e *daemonEnv) ([]string, error) {
	if err := checkSocketDir(e.dir); err != nil {
		return nil, err
	}
	if err := e.mkdir("data"); err != nil {
		return nil, err
	}
	if err := e.chown("postgres", "", "data"); err != nil {
		return nil, err
	}
	initdb := filepath.Join(filepath.Dir(e.bin), "initdb")
	if err := e.run(asUser("postgres", initdb, "-D", e.path("data"), "-U", "portscan", "--auth=trust",
		"--no-sync", "--no-instructions", "--locale=C", "-E", "UTF8")...); err != nil {
		return nil, err
	}
	return asUser("postgres", e.bin, "-D", e.path("data"), "-k", e.dir,
		"-c", "listen_addresses="+e.host(), "-c", "port="+e.port(),
		"-c", "fsync=off", "-c", "logging_collector=off"), nil
}

func setupMariaDB(e *daemonEnv) ([]string, error) {
	if err := checkSocketDir(e.dir); err != nil {
		return nil, err
	}
	install, err := lookProg("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	if err := e.run(install, "--no-defaults", "--datadir="+e.path("data"), "--user=root",
		"--skip-test-db", "--skip-name-resolve"); err != nil {
		return nil, err
	}
	return []string{e.bin, "--no-defaults", "--datadir=" + e.path("data"), "--socket=" + e.path("sock"),
		"--port=" + e.port(), "--bind-address=" + e.host(), "--user=root",
		"--pid-file=" + e.path("mariadb.pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M"}, nil
}

func setupRsync(e *daemonEnv) ([]string, error) {
	if err := e.mkdir("data"); err != nil {
		return nil, err
	}
	err := e.write("rsyncd.conf", `pid file = {dir}/rsyncd.pid
log file = {dir}/daemon.log
use chroot = no
[data]
path = {dir}/data
read only = yes
`)
	return []string{e.bin, "--daemon", "--no-detach", "--config=" + e.path("rsyncd.conf"),
		"--address=" + e.host(), "--port=" + e.port()}, err
}

// setupStunnel wraps Backend in TLS. stunnel reads its addresses as
// host:port with the last colon the separator, IPv6 hosts unbracketed.
func setupStunnel(e *daemonEnv) ([]string, error) {
	if !e.d.Backend.IsValid() {
		return nil, errors.New("stunnel needs a Backend to wrap")
	}
	c, err := e.cert()
	if err != nil {
		return nil, err
	}
	b := e.d.Backend
	err = e.write("stunnel.conf", `foreground = yes
pid = {dir}/stunnel.pid
syslog = no
[lab]
accept = {host}:{port}
connect = `+b.Addr().String()+":"+strconv.Itoa(int(b.Port()))+`
cert = `+c.Cert+`
key = `+c.Key+`
`)
	return []string{e.bin, e.path("stunnel.conf")}, err
}

func setupDnsmasq(e *daemonEnv) ([]string, error) {
	return []string{e.bin, "-k", "--port=" + e.port(), "--listen-address=" + e.host(), "--bind-interfaces",
		"--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--user=root",
		"--pid-file=" + e.path("dnsmasq.pid")}, nil
}

func setupExim(e *daemonEnv) ([]string, error) {
	if err := e.mkdir("spool", "log"); err != nil {
		return nil, err
	}
	err := e.write("exim.conf", `primary_hostname = mail.example.net
daemon_smtp_ports = {port}
local_interfaces = <; {host}
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
pid_file_path = {dir}/exim.pid
exim_user = root
exim_group = root
never_users =
`)
	return []string{e.bin, "-C", e.path("exim.conf"), "-bdf"}, err
}

// setupDovecot serves one protocol, imap or pop3, in the clear: the
// TLS listeners are turned off, and the static passdb lets the login
// processes start.
func setupDovecot(proto string) func(e *daemonEnv) ([]string, error) {
	return func(e *daemonEnv) ([]string, error) {
		if err := checkSocketDir(e.dir); err != nil {
			return nil, err
		}
		err := e.write("dovecot.conf", `protocols = `+proto+`
listen = {host}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = /dev/stderr
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
service `+proto+`-login {
  inet_listener `+proto+` {
    port = {port}
  }
  inet_listener `+proto+`s {
    port = 0
  }
}
`)
		return []string{e.bin, "-F", "-c", e.path("dovecot.conf")}, err
	}
}
