package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPcapCmd is the pcap subcommand: it reads capture files and reports
// the services their traffic shows.
func newPcapCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pcap [flags] FILES...",
		Short: "Report the open and closed services a packet capture shows",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return &exitError{code: exitFail, err: errors.New("pcap: not implemented yet")}
		},
	}
}
