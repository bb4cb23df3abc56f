// Package lab builds the hosts and ports that tests and benchmarks of the
// scanner probe: listeners on loopback, network namespaces with nftables
// rules that make ports closed, filtered or rejected and hosts dead or
// unreachable, and real daemons inside them.
//
// Nothing here sends a packet anywhere but to 127.0.0.0/8, ::1, or
// addresses inside namespaces the test itself created. Addresses such as
// 198.18.0.0/24 exist only inside those namespaces.
//
// # Loopback
//
// Listen, ListenAcceptClose, ListenFullBacklog, UDPEcho and UDPSilent open
// listeners in the test's own network namespace; they need no privilege.
// Each is closed by t.Cleanup.
//
// # Namespaces
//
// NewNamespace (root only; see Available and Require) makes a fresh network
// namespace named ps-<pid>-<n>, with lo up, deleted by t.Cleanup together
// with every process still inside it. Namespaces left by a crashed earlier
// run (whose pid is gone) are removed on first use.
//
// Code reaches into a namespace in three ways:
//
//   - Namespace.DialContext dials from inside the namespace and can be
//     injected as the scanner's Dial function: the socket is created on a
//     thread that sits in the namespace, the rest of the dial runs on any
//     goroutine, so any number of goroutines may use it at once.
//   - Namespace.Do runs a function on an OS thread switched into the
//     namespace. Sockets made inside keep the namespace for life, but
//     goroutines started inside fn run on other threads, in the test's
//     original namespace: an engine that dials from its own goroutines must
//     be given Namespace.DialContext, or run whole inside the namespace.
//   - Namespace.Reexec runs the current test again as a child test binary
//     started with "ip netns exec", so the whole process, all goroutines
//     included, lives in the namespace. InChild tells the two runs apart.
//
// # Ready-made labs
//
// NewFilteredLoopback, NewLAN and NewLoopbackSlash24 build the labs the
// scanner's tests and benchmarks use, with the kernel's ICMP rate limits
// lifted (SetICMPRateLimit puts them back); bench/lab.sh builds the same ones
// by hand through labd, from the same presets (see Presets), so that both
// build identical labs.
//
// # Real daemons
//
// StartDaemon and StartDaemons (root only) run real servers from
// Debian's packages inside a namespace: OpenSSH, nginx (HTTP, or HTTPS
// with a certificate WriteSelfSigned makes), vsftpd, Redis, memcached,
// Mosquitto, PostgreSQL, MariaDB, the rsync daemon, stunnel (TLS around
// another service), dnsmasq, Exim and Dovecot (IMAP, POP3). Each gets a
// configuration and data directory of its own under t.TempDir(), listens
// on the one address it is given, runs in the foreground in a process
// group of its own, killed at cleanup, and is waited for until a connect
// from inside the namespace succeeds. A daemon whose program is missing
// skips the test (fails it under PORTSCAN_LAB_REQUIRE); .ci/run installs
// them all with a policy-rc.d that keeps them from starting as services.
//
// StartDetectionLab starts them all at once, on their usual ports and a
// few unusual ones, and says what service detection must find on each
// port (DetectService): the lab that package detect's matchers, and the
// -sV prober, are tested on.
//
// # What the kernel answers
//
// As the tests of this package check (Linux 6.x, connect from inside):
//
//   - open: connected; closed, or "reject with tcp reset": ECONNREFUSED.
//   - dropped, dead host, full backlog: nothing; the dial times out.
//   - ICMP admin-prohibited: EHOSTUNREACH on IPv4, EACCES on IPv6.
//   - ICMP host-unreachable: EHOSTUNREACH; ICMP port-unreachable to UDP:
//     ECONNREFUSED on the connected socket's next read.
//   - LAN, address nobody holds: EHOSTUNREACH after about 3 s (three ARP
//     requests a second apart), again for every new connect: the kernel's
//     FAILED neighbour entry does not make the next one fail sooner. UDP
//     to such an address gets no error at all.
//   - LAN, address outside the only route: ENETUNREACH at once.
//   - On loopback, an ICMP reject of a SYN may be handled while connect
//     still holds the socket; the kernel then keeps it as a soft error, and
//     net.Dialer reports it only when the SYN is rejected again a second
//     later: seen for every IPv6 reject here, and for IPv4 rejects with a
//     blocking connect (bash's /dev/tcp). Namespace.DialContext reads it at
//     once.
package lab
