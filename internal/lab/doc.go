// Package lab builds the hosts and ports that tests and benchmarks of the
// scanner probe: listeners on loopback, and network namespaces with
// nftables rules that make ports closed, filtered or rejected and hosts
// dead or unreachable.
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
// scanner's tests and benchmarks use; bench/lab.sh builds the same ones
// by hand, from the same nftables rules (the rules directory).
package lab
