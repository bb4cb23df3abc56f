package scale

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman runs podman on the test's own storage (vfs, which needs no
// overlay support), so that it neither sees nor leaves images elsewhere.
type podman struct {
	t          testing.TB
	root, run  string
	executable string
}

func newPodman(t testing.TB) *podman {
	t.Helper()
	exe, err := exec.LookPath("podman")
	if err != nil {
		skip(t, "podman not found (apt-get install -y podman, as .ci/run does): "+err.Error())
	}
	if os.Geteuid() != 0 {
		skip(t, fmt.Sprintf("image test needs root for podman's storage and chroot (euid %d)", os.Geteuid()))
	}
	dir := openDir(t, false)
	return &podman{t: t, root: filepath.Join(dir, "storage"), run: filepath.Join(dir, "run"), executable: exe}
}

func (p *podman) command(args ...string) *exec.Cmd {
	return exec.Command(p.executable, append([]string{"--root", p.root, "--runroot", p.run, "--storage-driver", "vfs", "--events-backend", "none"}, args...)...)
}

// output runs podman and returns its standard output; a failure fails
// the test with its standard error.
func (p *podman) output(stdin io.Reader, args ...string) []byte {
	p.t.Helper()
	cmd := p.command(args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// goEnv returns a value of go env.
func goEnv(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// builderImage makes the image the Containerfile's build stage runs in
// from this machine's Go toolchain and the root module's dependencies,
// as the official golang image lays them out (/usr/local/go, /go), with
// no shell and no network: GOPROXY=off. It needs no registry.
func builderImage(t testing.TB, p *podman, name string) {
	t.Helper()
	modcache := filepath.Join(openDir(t, false), "mod")
	// The modules come from this machine's module cache, which serves as
	// a proxy; the configured proxy only for what it lacks.
	get := exec.Command("go", "mod", "download")
	get.Dir = filepath.Join("..", "..")
	get.Env = append(os.Environ(), "GOMODCACHE="+modcache, "GOFLAGS=-modcacherw",
		"GOPROXY=file://"+filepath.ToSlash(filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download"))+","+goEnv(t, "GOPROXY"))
	if out, err := get.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := errors.Join(
			addDir(tw, "tmp", 0o1777),
			addDir(tw, "root", 0o700),
			addTree(tw, goEnv(t, "GOROOT"), "usr/local/go", "test", "api", "doc", "misc"),
			addTree(tw, modcache, "go/pkg/mod"),
			tw.Close())
		pw.CloseWithError(err)
	}()
	p.output(pr, "import",
		"--change", "ENV PATH=/usr/local/go/bin:/go/bin:/usr/bin:/bin",
		"--change", "ENV GOPATH=/go",
		"--change", "ENV HOME=/root",
		"--change", "ENV GOPROXY=off",
		"--change", "ENV GOTOOLCHAIN=local",
		"--change", "ENV GOFLAGS=-mod=mod",
		"-", name)
}

func addDir(tw *tar.Writer, name string, mode int64) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode})
}

// addTree writes the tree at dir into tw under prefix, leaving out the
// top-level entries skip names; owners become root.
func addTree(tw *tar.Writer, dir, prefix string, skip ...string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		for _, s := range skip {
			if rel == s {
				return filepath.SkipDir
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(filepath.Join(prefix, rel))
		if d.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
}

// imageConfig is the part of podman image inspect the test checks.
type imageConfig struct {
	Config struct {
		User       string
		Entrypoint []string
		Cmd        []string
	}
	RootFS struct {
		Layers []string
	}
}

// TestImage builds the Containerfile with a builder made offline from
// this machine's toolchain, exports the image's filesystem, checks that
// it holds portscan alone, statically linked, and runs the entrypoint
// under chroot as the image's user: --version, then a scan of 127.0.0.1
// in a namespace with only lo. (podman run does not work on these
// machines, for their cgroups; podman build does, with chroot
// isolation.) Last, a SYN scan with CAP_NET_RAW alone.
func TestImage(t *testing.T) {
	p := newPodman(t)
	requireLab(t)
	const builder, image = "localhost/portscan-builder:test", "localhost/portscan:test"
	start := time.Now()
	builderImage(t, p, builder)
	t.Logf("builder image made in %.1f s", time.Since(start).Seconds())
	start = time.Now()
	p.output(nil, "build", "--isolation", "chroot", "--layers=false", "--build-arg", "BUILDER="+builder,
		"-t", image, "-f", filepath.Join("..", "..", "Containerfile"), filepath.Join("..", ".."))

	t.Logf("image built in %.1f s", time.Since(start).Seconds())
	var cfg []imageConfig
	if err := json.Unmarshal(p.output(nil, "image", "inspect", image), &cfg); err != nil || len(cfg) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(cfg))
	}
	c := cfg[0].Config
	if strings.Join(c.Entrypoint, " ") != "/portscan" || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q; want [/portscan] alone", c.Entrypoint, c.Cmd)
	}
	if c.User != fmt.Sprintf("%d:%d", uid, uid) {
		t.Errorf("user %q, want %d:%d, numeric (a scratch image has no /etc/passwd)", c.User, uid, uid)
	}
	if n := len(cfg[0].RootFS.Layers); n != 1 {
		t.Errorf("%d layers, want 1: the binary", n)
	}

	// The image's filesystem, as a container of it would see it.
	id := strings.TrimSpace(string(p.output(nil, "create", image)))
	rootfs := openDir(t, false)
	export := p.command("export", id)
	pipe, err := export.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	export.Stderr = &stderr
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	files := untar(t, pipe, rootfs)
	if err := export.Wait(); err != nil {
		t.Fatalf("podman export: %v\n%s", err, stderr.String())
	}
	p.output(nil, "rm", id)
	if len(files) != 1 || files[0] != "portscan" {
		t.Errorf("the image holds %q, want portscan alone", files)
	}
	checkStatic(t, filepath.Join(rootfs, "portscan"))

	user := fmt.Sprintf("--userspec=%d:%d", uid, uid)
	out, err := exec.Command("chroot", user, rootfs, "/portscan", "--version").CombinedOutput()
	want, _ := exec.Command(portscanBin(t), "--version").Output()
	if err != nil || !bytes.Equal(out, want) || !strings.HasPrefix(string(out), "portscan ") {
		t.Errorf("chroot %s /portscan --version: %v, %q; want %q", rootfs, err, out, want)
	}

	// A scan, as the image's user, writing its output and its state
	// where a volume would be (the image's own root is not writable to
	// it, as with readOnlyRootFilesystem), then a merge of the output.
	ns := newNetns(t, "image")
	l, err := nsListen(ns, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := l.Addr().(*net.TCPAddr).Port
	data := filepath.Join(rootfs, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, uid, uid); err != nil {
		t.Fatal(err)
	}
	ports := fmt.Sprintf("%d,%d", open, open+1)
	chroot := func(args ...string) {
		t.Helper()
		if code, msg := exitCode(t, ns.command("chroot", append([]string{user, rootfs, "/portscan"}, args...)...)); code != 0 {
			t.Fatalf("chroot %s /portscan %q: exit %d:\n%s", rootfs, args, code, msg)
		}
	}
	chroot("-q", "--resume", "/data/state.json", "-p", ports, "--format", "jsonl", "-o", "/data/out.jsonl", "127.0.0.1")
	chroot("merge", "--format", "xml", "-o", "/data/report.xml", "/data/out.jsonl")
	wantRep := report{up: map[string]hostReport{"127.0.0.1": {
		open:   map[string]string{strconv.Itoa(open) + "/tcp": "open"},
		counts: map[string]int{"open": 1, "closed": 1},
	}}}
	for _, name := range []string{"out.jsonl", "report.xml"} {
		if d := wantRep.diff(readReport(t, filepath.Join(data, name))); d != "" {
			t.Errorf("the image's scan of %s in %s, %s:\n%s", ports, ns.name, name, d)
		}
	}
	if !stateDone(t, filepath.Join(data, "state.json")) {
		t.Errorf("the image's scan finished, and its state is not marked done")
	}

	// A SYN scan needs raw sockets: refused to the image's user, done
	// by root with no capability but CAP_NET_RAW (and CAP_SYS_CHROOT,
	// which chroot needs), as podman run --user 0 --cap-drop ALL
	// --cap-add NET_RAW gives it.
	if code, msg := exitCode(t, ns.command("chroot", user, rootfs, "/portscan", "-sS", "-q", "-p", ports, "127.0.0.1")); code != 2 || !strings.Contains(msg, "CAP_NET_RAW") {
		t.Errorf("-sS as uid %d: exit %d, want 2 naming CAP_NET_RAW:\n%s", uid, code, msg)
	}
	// (Its output on stdout: without CAP_DAC_OVERRIDE root may not
	// write in the volume that uid owns.)
	syn := ns.command("setpriv", "--bounding-set=-all,+net_raw,+sys_chroot", "--inh-caps=-all",
		"chroot", rootfs, "/portscan", "-sS", "-q", "-p", ports, "--format", "jsonl", "127.0.0.1")
	var synErr bytes.Buffer
	syn.Stderr = &synErr
	synOut, err := syn.Output()
	if err != nil {
		t.Fatalf("-sS with CAP_NET_RAW alone: %v:\n%s", err, synErr.String())
	}
	synFile := filepath.Join(openDir(t, false), "syn.jsonl")
	if err := os.WriteFile(synFile, synOut, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := wantRep.diff(readReport(t, synFile)); d != "" {
		t.Errorf("the image's SYN scan of %s in %s:\n%s", ports, ns.name, d)
	}
}

// nsListen opens a TCP listener in ns that accepts and closes
// connections until the test ends.
func nsListen(ns *netns, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.do(func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	ns.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l, nil
}

// untar unpacks an exported filesystem into dir and returns the names
// of its files other than directories.
func untar(t testing.TB, r io.Reader, dir string) []string {
	t.Helper()
	var files []string
	tr := tar.NewReader(bufio.NewReader(r))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("podman export: %v", err)
		}
		name := filepath.Clean(h.Name)
		if !filepath.IsLocal(name) {
			t.Fatalf("podman export: entry %q outside the filesystem", h.Name)
		}
		dst := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		case tar.TypeReg:
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, fs.FileMode(h.Mode)&fs.ModePerm)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(f, tr)
			if err := errors.Join(err, f.Close()); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, name)
	}
}

// checkStatic checks that path is an ELF executable that needs no
// dynamic loader and no shared library.
func checkStatic(t testing.TB, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: not statically linked", path, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %q", path, libs)
	}
}

// TestContainerfile checks what the image test cannot, since it builds
// with a builder of its own: the default builder is the official Go
// image of the Go version the root module needs, and the build is the
// static one.
func TestContainerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go ([0-9]+\.[0-9]+)`).FindSubmatch(mod)
	if goVersion == nil {
		t.Fatal("go.mod: no go line")
	}
	for _, want := range []string{
		"ARG BUILDER=docker.io/library/golang:" + string(goVersion[1]) + "\n",
		"FROM ${BUILDER} AS build\n",
		"ENV CGO_ENABLED=0\n",
		`"-trimpath"`,
		"FROM scratch\n",
		`ENTRYPOINT ["/portscan"]` + "\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
}
