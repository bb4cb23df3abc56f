package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is returned by Available when this process cannot make
// network namespaces: it is not root, or ip or nft is missing or fails.
var ErrUnavailable = errors.New("lab: network namespaces unavailable")

// ErrClosed is returned by a Namespace's methods once it has been deleted.
var ErrClosed = errors.New("lab: namespace deleted")

// RequireEnv is the environment variable that turns the skips of Require
// and RequireRoot into failures, so that a CI run that is meant to have
// namespaces does not pass quietly without them.
const RequireEnv = "PORTSCAN_LAB_REQUIRE"

// netnsDir is where ip(8) keeps the bind mounts that name namespaces.
const netnsDir = "/var/run/netns"

// namePrefix starts the name of every namespace this package makes; the
// pid after it tells whether the run that made it is still alive.
const namePrefix = "ps-"

var staleName = regexp.MustCompile(`^ps-([0-9]+)-[0-9]+(-[a-z0-9-]*)?$`)

var (
	availOnce sync.Once
	availErr  error
	staleOnce sync.Once
	nsCount   atomic.Int64
)

// Available reports whether this process can build namespace labs: it
// must run as root with ip and nft on its PATH, and "ip netns add" must
// work. The answer is worked out once per process.
func Available() error {
	availOnce.Do(func() { availErr = probe() })
	return availErr
}

func probe() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not running as root (euid %d)", ErrUnavailable, os.Geteuid())
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found (apt-get install -y iproute2 nftables): %v", ErrUnavailable, tool, err)
		}
	}
	name := fmt.Sprintf("%s%d-0", namePrefix, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: ip netns add: %v: %s", ErrUnavailable, err, bytes.TrimSpace(out))
	}
	out, err := exec.Command("ip", "netns", "exec", name, "nft", "list", "ruleset").CombinedOutput()
	_ = exec.Command("ip", "netns", "del", name).Run()
	if err != nil {
		return fmt.Errorf("%w: nft in a namespace: %v: %s", ErrUnavailable, err, bytes.TrimSpace(out))
	}
	return nil
}

// RequireRoot skips the test unless it runs as root (or fails it, when
// PORTSCAN_LAB_REQUIRE is set).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, fmt.Sprintf("lab: test needs root to build network namespaces (euid %d); run it as root, as CI does", os.Geteuid()))
	}
}

// Require skips the test unless Available succeeds (or fails it, when
// PORTSCAN_LAB_REQUIRE is set).
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		skip(t, err.Error()+"; run as root with iproute2 and nftables, as CI does")
	}
}

func skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// Namespace is a network namespace made for one test. Its methods that
// set it up (Nft, AddAddr, MustRun, Sysctl, the listeners) fail the test
// on error; Run, Do and DialContext return errors.
type Namespace struct {
	name string
	t    testing.TB

	workerOnce sync.Once
	workerErr  error
	pools      [4]chan sockResp // ready sockets, by sockKind
	wanted     [4]atomic.Bool   // kinds asked for at least once
	wake       chan struct{}
	done       chan struct{}
	closeOnce  sync.Once
}

var labelChars = regexp.MustCompile(`[^a-z0-9-]+`)

// NewNamespace makes a network namespace named ps-<pid>-<n>-<label>, with
// lo up, and deletes it at the end of the test, killing every process
// still inside. It skips the test when namespaces are unavailable.
func NewNamespace(t testing.TB, label string) *Namespace {
	t.Helper()
	Require(t)
	staleOnce.Do(removeStale)
	label = labelChars.ReplaceAllString(strings.ToLower(label), "-")
	if len(label) > 24 {
		label = label[:24]
	}
	name := fmt.Sprintf("%s%d-%d", namePrefix, os.Getpid(), nsCount.Add(1))
	if label != "" {
		name += "-" + label
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("lab: ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	ns := &Namespace{name: name, t: t, done: make(chan struct{})}
	t.Cleanup(ns.delete)
	ns.MustRun("ip", "link", "set", "lo", "up")
	return ns
}

// Name returns the namespace's name as "ip netns" knows it.
func (ns *Namespace) Name() string { return ns.name }

// Path returns the file that names the namespace (/var/run/netns/NAME).
func (ns *Namespace) Path() string { return filepath.Join(netnsDir, ns.name) }

// String returns the name.
func (ns *Namespace) String() string { return ns.name }

// delete kills the processes left inside and removes the namespace.
func (ns *Namespace) delete() {
	ns.closeOnce.Do(func() { close(ns.done) })
	if err := deleteNamespace(ns.name); err != nil {
		ns.t.Errorf("lab: %v", err)
	}
}

// deleteNamespace kills every process (but this one) whose namespace is
// name, then deletes the namespace.
func deleteNamespace(name string) error {
	out, _ := exec.Command("ip", "netns", "pids", name).Output()
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid == os.Getpid() || pid <= 1 {
			continue
		}
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// removeStale deletes the namespaces left by earlier runs of this package
// that died before their cleanups ran: those whose pid no longer exists.
func removeStale() {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = deleteNamespace(e.Name())
	}
}

func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Run runs a command inside the namespace (ip netns exec) and returns its
// combined output. A failure carries the output in its message.
func (ns *Namespace) Run(args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("lab: Run: no command")
	}
	out, err := ns.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: in %s: %s: %w: %s", ns.name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// MustRun is Run that fails the test on error.
func (ns *Namespace) MustRun(args ...string) string {
	ns.t.Helper()
	out, err := ns.Run(args...)
	if err != nil {
		ns.t.Fatal(err)
	}
	return out
}

// Command returns a command that runs name inside the namespace, through
// "ip netns exec". Start it and wait for it as any exec.Cmd; whatever is
// still running inside when the namespace is deleted is killed.
func (ns *Namespace) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// Start starts a command inside the namespace and kills it at cleanup.
// Its output goes to the test log when the test fails.
func (ns *Namespace) Start(name string, args ...string) *exec.Cmd {
	ns.t.Helper()
	cmd := ns.Command(name, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		ns.t.Fatalf("lab: in %s: start %s: %v", ns.name, name, err)
	}
	ns.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if ns.t.Failed() && out.Len() > 0 {
			ns.t.Logf("lab: output of %s in %s:\n%s", name, ns.name, out.String())
		}
	})
	return cmd
}

// Nft loads an nftables ruleset (nft -f syntax) into the namespace.
func (ns *Namespace) Nft(ruleset string) {
	ns.t.Helper()
	cmd := ns.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		ns.t.Fatalf("lab: in %s: nft -f: %v: %s\nruleset:\n%s", ns.name, err, bytes.TrimSpace(out), ruleset)
	}
}

// AddAddr adds an address in CIDR form ("198.18.0.1/24", "127.0.1.5/32")
// to the device dev of the namespace.
func (ns *Namespace) AddAddr(cidr, dev string) {
	ns.t.Helper()
	ns.MustRun("ip", "addr", "add", cidr, "dev", dev)
}

// Sysctl sets a kernel parameter of the namespace, by its path under
// /proc/sys ("net/ipv4/icmp_ratemask") or its dotted name.
func (ns *Namespace) Sysctl(key, value string) {
	ns.t.Helper()
	path := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	err := ns.Do(func() error { return os.WriteFile(path, []byte(value), 0o644) })
	if err != nil {
		ns.t.Fatalf("lab: in %s: sysctl %s=%s: %v", ns.name, key, value, err)
	}
}

// Do runs fn on the calling goroutine, locked to an OS thread that is
// switched into the namespace, then switches the thread back.
//
// Sockets that fn creates belong to the namespace for their whole life, and
// may be used afterwards from any goroutine. Goroutines that fn starts do
// not run in the namespace: they are scheduled on other threads, which stay
// in the test's own namespace. fn may call t.Fatal.
func (ns *Namespace) Do(fn func() error) error {
	select {
	case <-ns.done:
		return ErrClosed
	default:
	}
	runtime.LockOSThread()
	restore, err := enter(ns.Path())
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: enter %s: %w", ns.name, err)
	}
	defer func() {
		if err := restore(); err != nil {
			// The thread is stuck in the wrong namespace; nothing that
			// follows on this goroutine could be trusted.
			panic(fmt.Sprintf("lab: cannot return from namespace %s: %v", ns.name, err))
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// enter switches the calling thread, which must be locked, into the
// namespace at path, and returns the function that switches it back.
func enter(path string) (restore func() error, err error) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open own namespace: %w", err)
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(orig)
		return nil, err
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		return nil, fmt.Errorf("setns: %w", err)
	}
	return func() error {
		defer unix.Close(orig)
		return unix.Setns(orig, unix.CLONE_NEWNET)
	}, nil
}

// lockedBuffer collects a child's output, which exec writes from its own
// goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
