// Package ports holds the typed port values shared by the catalog, the
// scanner and the outputs, and parses port specifications such as
// "22,80,8000-8100", "-" and "ssh,http".
package ports

import (
	"fmt"
	"strconv"
	"strings"
)

// Protocol is the transport a port number belongs to.
type Protocol uint8

// The protocols a port can belong to. DDP is AppleTalk's datagram delivery
// protocol; it appears in the catalog but is never scanned.
const (
	TCP Protocol = iota + 1
	UDP
	DDP
)

// String returns the lower-case protocol name ("tcp", "udp", "ddp").
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case DDP:
		return "ddp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText writes the protocol as its lower-case name.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a protocol name written by MarshalText.
func (p *Protocol) UnmarshalText(b []byte) error {
	q, err := ParseProtocol(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParseProtocol reads "tcp", "udp" or "ddp", in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "ddp":
		return DDP, nil
	}
	return 0, fmt.Errorf("%w %q: want tcp, udp or ddp", ErrProtocol, s)
}

// Port is a port number on a protocol; it prints as "80/tcp".
type Port struct {
	Number uint16
	Proto  Protocol
}

// String returns the port as "number/protocol".
func (p Port) String() string {
	return strconv.Itoa(int(p.Number)) + "/" + p.Proto.String()
}
