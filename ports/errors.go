package ports

import "errors"

// ErrProtocol is returned for a protocol name other than tcp, udp or ddp.
var ErrProtocol = errors.New("invalid protocol")

// ErrSpec is returned, wrapped with the offending token, for a port
// specification that cannot be read.
var ErrSpec = errors.New("invalid port")
