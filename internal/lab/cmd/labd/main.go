// Command labd holds the listeners of a test lab: it listens on the TCP
// and UDP addresses it is given, and on those of a lab preset, until it is
// stopped. With -setup it first sets up the namespace it runs in as the
// preset says (addresses, kernel parameters, nftables rules), so that
// bench/lab.sh builds exactly the labs the Go tests build.
//
// Usage:
//
//	labd [-setup] [-preset NAME] [SERVICE...]
//	labd -rules NAME
//	labd -list
//
// A SERVICE is KIND:IP:PORT, KIND being tcp (accept and hold), tcp-close
// (accept and close), tcp-backlog (never accept, queue full), udp (echo)
// or udp-silent ("tcp:198.18.0.1:22", "udp:[::]:53"). labd prints "ready"
// on a line of its own once every listener is up. Run it inside a
// namespace with "ip netns exec NAME labd ...".
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/portscan/portscan/internal/lab"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "labd:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("labd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "", "serve the listeners of this lab preset")
	setup := fs.Bool("setup", false, "first set the namespace up as -preset says (needs root)")
	rules := fs.String("rules", "", "print the nftables rules of this preset and exit")
	list := fs.Bool("list", false, "list the presets and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: labd [-setup] [-preset NAME] [KIND:IP:PORT...]\n       labd -rules NAME | -list")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *list:
		for _, p := range lab.Presets() {
			fmt.Fprintf(stdout, "%-12s %d addresses on %s, %d listeners\n", p.Name, len(p.Addrs), p.Dev, len(p.Services))
		}
		return nil
	case *rules != "":
		p, err := lab.LookupPreset(*rules)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, p.Rules)
		return nil
	}

	services, err := parseServices(fs.Args())
	if err != nil {
		return err
	}
	if *setup && *preset == "" {
		return errors.New("-setup needs -preset")
	}
	if *preset != "" {
		p, err := lab.LookupPreset(*preset)
		if err != nil {
			return err
		}
		if *setup {
			if err := setUp(p); err != nil {
				return fmt.Errorf("setting up %s: %w", p.Name, err)
			}
		}
		services = append(p.Services, services...)
	}
	if len(services) == 0 {
		if *setup {
			fmt.Fprintln(stdout, "ready")
			return nil
		}
		fs.Usage()
		return errors.New("nothing to listen on")
	}

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, s := range services {
		c, err := lab.StartService(s)
		if err != nil {
			return err
		}
		closers = append(closers, c)
		fmt.Fprintf(stdout, "listening %s:%s\n", s.Kind, c.Addr())
	}
	fmt.Fprintln(stdout, "ready")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}

func parseServices(args []string) ([]lab.Service, error) {
	var out []lab.Service
	for i, a := range args {
		s, err := lab.ParseService(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// setUp applies a preset to the namespace labd runs in.
func setUp(p lab.Preset) error {
	for _, a := range p.Addrs {
		if out, err := exec.Command("ip", "addr", "add", a.String(), "dev", p.Dev).CombinedOutput(); err != nil {
			return fmt.Errorf("ip addr add %s dev %s: %w: %s", a, p.Dev, err, strings.TrimSpace(string(out)))
		}
	}
	for _, s := range p.Sysctls {
		path := filepath.Join("/proc/sys", s.Key)
		if err := os.WriteFile(path, []byte(s.Value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", s.Key, s.Value, err)
		}
	}
	if p.Rules != "" {
		cmd := exec.Command("nft", "-f", "-")
		cmd.Stdin = strings.NewReader(p.Rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("nft -f: %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}
