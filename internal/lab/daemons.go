package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// How each daemon is configured and started: the configurations are
// those detect/testdata/record.sh and record-probes.sh record the
// daemons' bytes with, each pointing every path into the daemon's own
// directory and listening on the one address asked for. Every daemon
// runs in the foreground; those that refuse to run as root (PostgreSQL)
// or need no privilege keep their packaged users.

// daemonSpec is what StartDaemon knows of one kind of daemon.
type daemonSpec struct {
	pkg   string   // the Debian package that has it
	prog  string   // its program, looked up on PATH, /usr/sbin and /sbin
	needs []string // other programs its setup runs
	short string   // its directory's name prefix: Unix socket paths are short
	// locate finds the program where it is not on PATH (PostgreSQL's
	// versioned directory); nil looks prog up.
	locate func() (string, error)
	// setup writes the configuration into the daemon's directory and
	// returns its command line.
	setup func(e *daemonEnv) ([]string, error)
	// version: the arguments that make the program (or versionProg, a
	// sibling program of the same package) print its version, and the
	// pattern whose first group is the version.
	versionProg string
	versionArgs []string
	versionRE   *regexp.Regexp
}

var daemonSpecs = map[DaemonKind]*daemonSpec{
	SSHD: {pkg: "openssh-server", prog: "sshd", needs: []string{"ssh-keygen"}, short: "ssh", setup: setupSSHD,
		versionProg: "ssh", versionArgs: []string{"-V"}, versionRE: regexp.MustCompile(`OpenSSH_([^\s,]+)`)},
	Nginx: {pkg: "nginx", prog: "nginx", short: "ngx", setup: setupNginx,
		versionArgs: []string{"-v"}, versionRE: regexp.MustCompile(`nginx/(\S+)`)},
	VSFTPD: {pkg: "vsftpd", prog: "vsftpd", short: "ftp", setup: setupVSFTPD,
		versionArgs: []string{"-v"}, versionRE: regexp.MustCompile(`version (\S+)`)},
	Redis: {pkg: "redis-server", prog: "redis-server", short: "rds", setup: setupRedis,
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`v=(\S+)`)},
	Memcached: {pkg: "memcached", prog: "memcached", short: "mc", setup: setupMemcached,
		versionArgs: []string{"-V"}, versionRE: regexp.MustCompile(`memcached (\S+)`)},
	Mosquitto: {pkg: "mosquitto", prog: "mosquitto", short: "mq", setup: setupMosquitto,
		versionArgs: []string{"-h"}, versionRE: regexp.MustCompile(`mosquitto version (\S+)`)},
	PostgreSQL: {pkg: "postgresql", prog: "postgres", needs: []string{"setpriv"}, short: "pg", locate: locatePostgres,
		setup: setupPostgres, versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`\(PostgreSQL\) (\S+)`)},
	MariaDB: {pkg: "mariadb-server", prog: "mariadbd", needs: []string{"mariadb-install-db"}, short: "my", setup: setupMariaDB,
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`Ver (\d[^-\s]*)`)},
	Rsync: {pkg: "rsync", prog: "rsync", short: "rs", setup: setupRsync,
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`version (\S+)`)},
	Stunnel: {pkg: "stunnel4", prog: "stunnel", short: "stn", setup: setupStunnel,
		versionArgs: []string{"-version"}, versionRE: regexp.MustCompile(`stunnel (\S+) on`)},
	Dnsmasq: {pkg: "dnsmasq-base", prog: "dnsmasq", short: "dns", setup: setupDnsmasq,
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`Dnsmasq version (\S+)`)},
	Exim: {pkg: "exim4-daemon-light", prog: "exim4", short: "mta", setup: setupExim,
		versionArgs: []string{"-bV"}, versionRE: regexp.MustCompile(`Exim version (\S+)`)},
	DovecotIMAP: {pkg: "dovecot-imapd", prog: "dovecot", short: "imap", setup: setupDovecot("imap"),
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`^(\S+)`)},
	DovecotPOP3: {pkg: "dovecot-pop3d", prog: "dovecot", short: "pop", setup: setupDovecot("pop3"),
		versionArgs: []string{"--version"}, versionRE: regexp.MustCompile(`^(\S+)`)},
}

// find returns the daemon's program, or ErrNoDaemon when it or a program
// its setup needs is missing.
func (s *daemonSpec) find() (string, error) {
	for _, p := range s.needs {
		if _, err := lookProg(p); err != nil {
			return "", fmt.Errorf("%w: %s (apt-get install %s): %v", ErrNoDaemon, p, s.pkg, err)
		}
	}
	if s.locate != nil {
		return s.locate()
	}
	bin, err := lookProg(s.prog)
	if err != nil {
		return "", fmt.Errorf("%w: %s (apt-get install %s): %v", ErrNoDaemon, s.prog, s.pkg, err)
	}
	return bin, nil
}

// lookProg finds a program on PATH, then in the system directories a
// non-login root shell may lack on its PATH.
func lookProg(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// locatePostgres finds the server of the newest PostgreSQL installed,
// which Debian keeps in /usr/lib/postgresql/<major>/bin.
func locatePostgres() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	if len(dirs) == 0 {
		return "", fmt.Errorf("%w: /usr/lib/postgresql/*/bin/postgres (apt-get install postgresql)", ErrNoDaemon)
	}
	return dirs[len(dirs)-1], nil
}

var versions sync.Map // DaemonKind -> *versionOnce

type versionOnce struct {
	once    sync.Once
	version string
	err     error
}

// daemonVersion asks the daemon's program its version, once per process.
func daemonVersion(kind DaemonKind, bin string) (string, error) {
	v, _ := versions.LoadOrStore(kind, &versionOnce{})
	vo := v.(*versionOnce)
	vo.once.Do(func() { vo.version, vo.err = askVersion(daemonSpecs[kind], bin) })
	return vo.version, vo.err
}

func askVersion(s *daemonSpec, bin string) (string, error) {
	prog := bin
	if s.versionProg != "" {
		var err error
		if prog, err = lookProg(s.versionProg); err != nil {
			return "", fmt.Errorf("%s for the version: %w", s.versionProg, err)
		}
	}
	// vsftpd writes its version to its standard input, which inetd
	// would make the socket: give it a file it can write.
	in, err := os.CreateTemp("", "lab-version-")
	if err != nil {
		return "", err
	}
	defer os.Remove(in.Name())
	defer in.Close()
	cmd := exec.Command(prog, s.versionArgs...)
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, &out
	_ = cmd.Run() // some exit non-zero after printing it (mosquitto -h)
	written, _ := os.ReadFile(in.Name())
	all := out.String() + "\n" + string(written)
	for _, line := range strings.Split(all, "\n") {
		if m := s.versionRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("no version in the output of %s %s: %q", prog, strings.Join(s.versionArgs, " "), all)
}

// daemonEnv is what a setup function works with.
type daemonEnv struct {
	ns  *Namespace
	d   Daemon
	dir string
	bin string
}

func (e *daemonEnv) path(name string) string { return filepath.Join(e.dir, name) }
func (e *daemonEnv) host() string            { return e.d.Addr.Addr().String() }
func (e *daemonEnv) port() string            { return strconv.Itoa(int(e.d.Addr.Port())) }

// write writes a file into the daemon's directory, "{dir}", "{host}",
// "{port}" and "{addr}" (host:port, IPv6 bracketed) in body replaced.
func (e *daemonEnv) write(name, body string) error {
	r := strings.NewReplacer("{dir}", e.dir, "{host}", e.host(), "{port}", e.port(), "{addr}", e.d.Addr.String())
	return os.WriteFile(e.path(name), []byte(r.Replace(body)), 0o644)
}

// mkdir makes directories in the daemon's directory.
func (e *daemonEnv) mkdir(names ...string) error {
	for _, n := range names {
		if err := os.MkdirAll(e.path(n), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// run runs a command inside the namespace, to completion.
func (e *daemonEnv) run(argv ...string) error {
	cmd := e.ns.Command(argv[0], argv[1:]...)
	cmd.Dir = e.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// cert writes a self-signed certificate into the daemon's directory.
func (e *daemonEnv) cert() (CertFiles, error) { return WriteSelfSigned(e.dir) }

// asUser is argv run as the named system user, by setpriv, which execs
// it: the daemon keeps the pid, and the process group, it was started
// with.
func asUser(name string, argv ...string) []string {
	return append([]string{"setpriv", "--reuid=" + name, "--regid=" + name, "--init-groups", "--"}, argv...)
}

// chown gives paths in the daemon's directory to a system user.
func (e *daemonEnv) chown(name string, paths ...string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(e.path(p), uid, gid); err != nil {
			return err
		}
	}
	return nil
}
