package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoDaemon is returned, wrapped with the program and the Debian
// package that has it, when a daemon is not installed.
var ErrNoDaemon = errors.New("lab: daemon not installed")

// ErrDaemon is returned, wrapped, when a daemon cannot be set up or
// does not come to listen in time.
var ErrDaemon = errors.New("lab: daemon failed")

// DaemonKind names a real server from Debian's packages that StartDaemon
// runs: it knows how to configure it, start it in the foreground and ask
// it its version.
type DaemonKind string

// The daemons StartDaemon runs, each from the Debian package named.
const (
	SSHD        DaemonKind = "sshd"         // openssh-server
	Nginx       DaemonKind = "nginx"        // nginx; HTTPS when Daemon.TLS
	VSFTPD      DaemonKind = "vsftpd"       // vsftpd
	Redis       DaemonKind = "redis"        // redis-server
	Memcached   DaemonKind = "memcached"    // memcached
	Mosquitto   DaemonKind = "mosquitto"    // mosquitto
	PostgreSQL  DaemonKind = "postgresql"   // postgresql; trusts every client
	MariaDB     DaemonKind = "mariadb"      // mariadb-server
	Rsync       DaemonKind = "rsync"        // rsync, its daemon mode
	Stunnel     DaemonKind = "stunnel"      // stunnel4: TLS around Daemon.Backend
	Dnsmasq     DaemonKind = "dnsmasq"      // dnsmasq-base: DNS on TCP and UDP
	Exim        DaemonKind = "exim"         // exim4-daemon-light
	DovecotIMAP DaemonKind = "dovecot-imap" // dovecot-imapd
	DovecotPOP3 DaemonKind = "dovecot-pop3" // dovecot-pop3d
)

// Daemon is one real server to start in a lab namespace.
type Daemon struct {
	Kind DaemonKind
	// Addr is where it listens: an IP literal of the namespace (127.0.0.1
	// or ::1) and a port.
	Addr netip.AddrPort
	// TLS makes nginx serve HTTPS, with a self-signed certificate
	// (WriteSelfSigned) in the daemon's directory.
	TLS bool
	// Backend is the plain service stunnel wraps in TLS.
	Backend netip.AddrPort
}

func (d Daemon) String() string { return string(d.Kind) + "@" + d.Addr.String() }

// RunningDaemon is a daemon StartDaemon started.
type RunningDaemon struct {
	Daemon
	// Dir holds its configuration, data and log (daemon.log).
	Dir string
	// Version is what its program says its version is ("9.2p1" for
	// OpenSSH, "1.22.1" for nginx, "15.18" for PostgreSQL), which the
	// service should reveal.
	Version string
	// PID is the daemon's process id, which leads its process group.
	PID int
}

// startTimeout bounds the wait for a daemon to listen; the slowest,
// MariaDB on a loaded CI machine, takes a few seconds.
const startTimeout = 60 * time.Second

// DaemonAvailable reports whether the daemon's program is installed: nil,
// or ErrNoDaemon wrapped with the program and its package.
func DaemonAvailable(kind DaemonKind) error {
	spec, ok := daemonSpecs[kind]
	if !ok {
		return fmt.Errorf("%w: unknown daemon kind %q", ErrDaemon, kind)
	}
	_, err := spec.find()
	return err
}

// StartDaemon starts one daemon inside ns, as StartDaemons does.
func StartDaemon(t testing.TB, ns *Namespace, d Daemon) *RunningDaemon {
	t.Helper()
	return StartDaemons(t, ns, d)[0]
}

// StartDaemons starts the daemons inside ns, all at once, each with a
// configuration and data directory of its own under t.TempDir(), and
// returns once every one accepts connections on its address (a connect
// from inside the namespace). Each runs in the foreground in a process
// group of its own, killed at cleanup.
//
// A daemon whose program is missing skips the test, or fails it when
// PORTSCAN_LAB_REQUIRE is set; one that does not come to listen fails it,
// with its log.
func StartDaemons(t testing.TB, ns *Namespace, ds ...Daemon) []*RunningDaemon {
	t.Helper()
	for _, d := range ds {
		if err := DaemonAvailable(d.Kind); err != nil {
			skip(t, err.Error())
		}
	}
	base := t.TempDir()
	if err := openPath(base); err != nil {
		t.Fatal(err)
	}
	type started struct {
		rd  *RunningDaemon
		p   *proc
		err error
	}
	res := make([]started, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			rd, p, err := startDaemon(ns, base, d)
			res[i] = started{rd, p, err}
		})
	}
	wg.Wait()
	out := make([]*RunningDaemon, len(ds))
	var errs []error
	for i, r := range res {
		if r.p != nil {
			t.Cleanup(func() { r.p.stop(t) })
		}
		out[i] = r.rd
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// openPath lets the users that daemons drop to (postgres, nginx's
// workers, dovecot's) reach dir: every directory from the temporary
// directory down to it becomes searchable, though not listable, by all.
func openPath(dir string) error {
	stop := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); strings.HasPrefix(d, stop+"/"); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o111); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

// startDaemon sets one daemon up, starts it and waits for it to listen.
// The process is returned whenever it was started, so that it is
// stopped even when waiting failed.
func startDaemon(ns *Namespace, base string, d Daemon) (*RunningDaemon, *proc, error) {
	spec := daemonSpecs[d.Kind]
	bin, err := spec.find()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(base, spec.short)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: %v: %w", d, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("lab: %v: %w", d, err)
	}
	env := &daemonEnv{ns: ns, d: d, dir: dir, bin: bin}
	argv, err := spec.setup(env)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v: %v", ErrDaemon, d, err)
	}
	version, err := daemonVersion(d.Kind, bin)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v: %v", ErrDaemon, d, err)
	}
	p, err := ns.startProc(d.String(), dir, argv)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v: %v", ErrDaemon, d, err)
	}
	rd := &RunningDaemon{Daemon: d, Dir: dir, Version: version, PID: p.pid}
	if err := p.waitListen(ns, d.Addr); err != nil {
		return rd, p, fmt.Errorf("%w: %v: %v\n%s", ErrDaemon, d, err, p.logTail())
	}
	return rd, p, nil
}

// proc is a daemon's process: the leader of its own process group, with
// its output in a log file.
type proc struct {
	name, log string
	pid       int
	done      chan struct{} // closed when the leader has been waited for
}

// startProc starts argv inside the namespace in a new process group,
// its output going to dir/daemon.log.
func (ns *Namespace) startProc(name, dir string, argv []string) (*proc, error) {
	logPath := filepath.Join(dir, "daemon.log")
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := ns.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, log: logPath, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitListen polls a connect to addr from inside the namespace until it
// succeeds, the process ends, or startTimeout passes.
func (p *proc) waitListen(ns *Namespace, addr netip.AddrPort) error {
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		c, err := ns.DialContext(ctx, "tcp", addr.String())
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before listening on %v", addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %v after %v: %v", addr, startTimeout, err)
		}
	}
}

// stop kills the process group and waits for its leader; the log goes
// to the test's when it failed.
func (p *proc) stop(t testing.TB) {
	_ = unix.Kill(-p.pid, unix.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("lab: %s (pid %d) still running 10s after SIGKILL", p.name, p.pid)
	}
	// Whatever the leader forked before it died is in the group too.
	_ = unix.Kill(-p.pid, unix.SIGKILL)
	if t.Failed() {
		t.Logf("lab: log of %s:\n%s", p.name, p.logTail())
	}
}

// logTail returns the end of the process's log.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 4096
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}

// Pids returns the processes inside the namespace, but this one.
func (ns *Namespace) Pids() []int {
	out, _ := exec.Command("ip", "netns", "pids", ns.name).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ExpectEmptyAtCleanup makes the test fail when, once the cleanups
// registered after this call have run (those that stop daemons), some
// process is still inside the namespace a few seconds later: a daemon
// that escaped its process group. The namespace's own cleanup then
// kills it. Call it before starting daemons.
func (ns *Namespace) ExpectEmptyAtCleanup() {
	ns.t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			pids := ns.Pids()
			if len(pids) == 0 {
				return
			}
			if time.Now().After(deadline) {
				ns.t.Errorf("lab: processes left in %s after the daemons stopped: %s", ns.name, describePids(pids))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func describePids(pids []int) string {
	var parts []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		parts = append(parts, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
	}
	return strings.Join(parts, ", ")
}
