// Command portscan finds the open TCP and UDP ports of hosts and labels each
// with a service name and description from its catalog.
//
// Exit status: 0 success; 1 nothing found (services), violations or
// differences (audit, diff), or a scan that failed; 2 usage or input error,
// or an open-file limit too low to scan; 130 interrupted.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
