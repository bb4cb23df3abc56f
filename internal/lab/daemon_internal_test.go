package lab

import "testing"

// The version lines the daemons' programs print (Debian 12's), and the
// version read from each.
func TestVersionPatterns(t *testing.T) {
	cases := []struct {
		kind      DaemonKind
		out, want string
	}{
		{SSHD, "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026", "9.2p1"},
		{Nginx, "nginx version: nginx/1.22.1", "1.22.1"},
		{VSFTPD, "vsftpd: version 3.0.3", "3.0.3"},
		{Redis, "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0", "7.0.15"},
		{Memcached, "memcached 1.6.18", "1.6.18"},
		{Mosquitto, "mosquitto version 2.0.11", "2.0.11"},
		{PostgreSQL, "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "15.18"},
		{MariaDB, "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)", "10.11.19"},
		{Rsync, "rsync  version 3.5.0  protocol version 32", "3.5.0"},
		{Stunnel, "stunnel 5.68 on x86_64-pc-linux-gnu platform", "5.68"},
		{Dnsmasq, "Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley", "2.90"},
		{Exim, "Exim version 4.96 #2 built 26-Nov-2026 14:26:47", "4.96"},
		{DovecotIMAP, "2.3.19.1 (9b53102964)", "2.3.19.1"},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			m := daemonSpecs[tc.kind].versionRE.FindStringSubmatch(tc.out)
			if m == nil || m[1] != tc.want {
				t.Errorf("%q: %v, want %q", tc.out, m, tc.want)
			}
		})
	}
}

// Every daemon of the detection lab has a spec and an expectation, and
// the directory prefixes tell the daemons' directories apart.
func TestDaemonTables(t *testing.T) {
	shorts := map[string]DaemonKind{}
	for kind, s := range daemonSpecs {
		if other, ok := shorts[s.short]; ok {
			t.Errorf("%s and %s share the directory prefix %q", kind, other, s.short)
		}
		shorts[s.short] = kind
		if s.setup == nil || s.versionRE == nil || s.pkg == "" {
			t.Errorf("%s: incomplete spec", kind)
		}
		if _, ok := detectWant[kind]; !ok && kind != Stunnel {
			t.Errorf("%s: nothing expected of it in the detection lab", kind)
		}
	}
	for _, d := range detectionLab {
		if _, ok := daemonSpecs[d.Kind]; !ok {
			t.Errorf("%v: no spec", d)
		}
	}
}
