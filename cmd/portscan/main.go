// Command portscan finds the open TCP and UDP ports of hosts and labels each
// with a service name and description from its catalog.
//
// Exit status: 0 success; 1 nothing found (services), violations or
// differences (audit, diff), or a scan that failed; 2 usage or input error,
// or an open-file limit too low to scan; 130 interrupted; 141 the reader
// of standard output went away (portscan ... | head).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A write to a pipe whose reader went away returns EPIPE rather than
	// killing the process, which then closes its other outputs and exits
	// quietly with the status SIGPIPE would have given (see exitPipe).
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
