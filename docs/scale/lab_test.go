package scale

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// requireEnv turns the skips of the tests that need root, namespaces or
// podman into failures, as it does for the root module's lab tests.
const requireEnv = "PORTSCAN_LAB_REQUIRE"

func skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, requireEnv)
	}
	t.Skip(msg)
}

var (
	labOnce sync.Once
	labErr  error
	nsCount atomic.Int64
)

// requireLab skips the test unless this process can make network
// namespaces: root, with ip and nft on the PATH.
func requireLab(t testing.TB) {
	t.Helper()
	labOnce.Do(func() {
		if os.Geteuid() != 0 {
			labErr = fmt.Errorf("not running as root (euid %d)", os.Geteuid())
			return
		}
		for _, tool := range []string{"ip", "nft", "setpriv"} {
			if _, err := exec.LookPath(tool); err != nil {
				labErr = fmt.Errorf("%s not found (apt-get install -y iproute2 nftables util-linux): %v", tool, err)
				return
			}
		}
	})
	if labErr != nil {
		skip(t, "lab: "+labErr.Error()+"; run as root, as CI does")
	}
}

// netns is a network namespace made for one test, deleted (with every
// process left inside) at its end. Names follow the root module's lab
// (ps-PID-N-LABEL), whose runs remove those a dead process left behind.
type netns struct {
	t    testing.TB
	name string
}

func newNetns(t testing.TB, label string) *netns {
	t.Helper()
	requireLab(t)
	ns := &netns{t: t, name: fmt.Sprintf("ps-%d-%d-scale-%s", os.Getpid(), 1000+nsCount.Add(1), label)}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns.name, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		out, _ := exec.Command("ip", "netns", "pids", ns.name).Output()
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, bytes.TrimSpace(out))
		}
	})
	ns.run("ip", "link", "set", "lo", "up")
	return ns
}

// command returns a command that runs inside the namespace.
func (ns *netns) command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// run runs a command inside the namespace and fails the test if it fails.
func (ns *netns) run(name string, args ...string) {
	ns.t.Helper()
	if out, err := ns.command(name, args...).CombinedOutput(); err != nil {
		ns.t.Fatalf("in %s: %s %s: %v: %s", ns.name, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

// nft loads a ruleset into the namespace.
func (ns *netns) nft(ruleset string) {
	ns.t.Helper()
	cmd := ns.command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		ns.t.Fatalf("in %s: nft -f: %v: %s\n%s", ns.name, err, bytes.TrimSpace(out), ruleset)
	}
}

// listen opens a TCP listener inside the namespace, which accepts and
// closes every connection until the test ends.
func (ns *netns) listen(addr string) {
	ns.t.Helper()
	if _, err := nsListen(ns, addr); err != nil {
		ns.t.Fatalf("in %s: listen %s: %v", ns.name, addr, err)
	}
}

// do runs fn on a thread switched into the namespace; the sockets fn
// opens belong to it for their whole life.
func (ns *netns) do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer unix.Close(orig)
	target, err := unix.Open("/var/run/netns/"+ns.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	err = unix.Setns(target, unix.CLONE_NEWNET)
	unix.Close(target)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns: %w", err)
	}
	defer func() {
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// The thread is in the wrong namespace: nothing after this
			// on it could be trusted.
			panic(fmt.Sprintf("cannot leave namespace %s: %v", ns.name, err))
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// lab is a small network in two namespaces: the scanner's, which has
// only lo and a veth to the hosts' (no route anywhere else), and the
// hosts', which holds labHosts addresses of 198.18.0.0/24 (set aside for
// benchmarks, RFC 2544) with listeners and firewall rules:
//
//	198.18.0.1  22, 80 open
//	198.18.0.2  25, 443 open
//	198.18.0.3  drops everything: down
//	198.18.0.4  22 open; 100-1024 dropped but 443: filtered, and slow
//	198.18.0.5-8  nothing listens: every port closed
type lab struct {
	scanner, hosts *netns
}

// labTargets is the targets file the tests write in place of any that a
// manifest names: the lab's addresses only.
const labTargets = "# the lab of docs/scale's tests\n198.18.0.1-4\n198.18.0.5-8\n"

const labHosts = 8

func newLab(t testing.TB) *lab {
	t.Helper()
	l := &lab{scanner: newNetns(t, "scanner"), hosts: newNetns(t, "hosts")}
	veth := fmt.Sprintf("ps%dv%d", os.Getpid()%100000, nsCount.Add(1))
	if out, err := exec.Command("ip", "link", "add", veth, "netns", l.scanner.name, "type", "veth", "peer", "name", "eth0", "netns", l.hosts.name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth: %v: %s", err, bytes.TrimSpace(out))
	}
	l.scanner.run("ip", "link", "set", veth, "name", "eth0")
	l.scanner.run("ip", "addr", "add", "198.18.0.100/24", "dev", "eth0")
	l.scanner.run("ip", "link", "set", "eth0", "up")
	for i := 1; i <= labHosts; i++ {
		l.hosts.run("ip", "addr", "add", fmt.Sprintf("198.18.0.%d/24", i), "dev", "eth0")
	}
	l.hosts.run("ip", "link", "set", "eth0", "up")
	l.hosts.nft(`table inet lab {
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr 198.18.0.3 drop
		ip daddr 198.18.0.4 tcp dport { 100-442, 444-1024 } drop
	}
}
`)
	for _, a := range []string{"198.18.0.1:22", "198.18.0.1:80", "198.18.0.2:25", "198.18.0.2:443", "198.18.0.4:22"} {
		l.hosts.listen(a)
	}
	return l
}

// TestLab checks the lab and the tests' own readers of jsonl and XML:
// a whole scan of it, as the pods' user and as root (who discovers hosts
// by ARP), must say what the lab holds in both formats.
func TestLab(t *testing.T) {
	requireLab(t)
	bin := portscanBin(t)
	l := newLab(t)
	dir := openDir(t, true)
	targets := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(targets, []byte(labTargets), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, privileged := range []bool{false, true} {
		for _, format := range []string{"jsonl", "xml"} {
			out := filepath.Join(dir, fmt.Sprintf("whole-%v.%s", privileged, format))
			args := []string{"-q", "-p", "1-1024", "--format", format, "-o", out, "-iL", targets}
			if err := checkScan(args, dir, targets); err != nil {
				t.Fatal(err)
			}
			cmd := asUser(l.scanner, nil, append([]string{bin}, args...)...)
			if privileged {
				cmd = l.scanner.command(bin, args...)
			}
			if code, msg := exitCode(t, cmd); code != 0 {
				t.Fatalf("%s, privileged %v: exit %d:\n%s", format, privileged, code, msg)
			}
			checkLabReport(t, readReport(t, out), privileged)
		}
	}
}
