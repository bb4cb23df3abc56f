//go:build !linux

package raw

import "errors"

// ErrUnsupported is returned by Check where raw sockets are not
// implemented: everywhere but Linux.
var ErrUnsupported = errors.New("raw sockets are implemented on Linux only")

// Check reports that this system has no raw packet layer.
func Check() error { return ErrUnsupported }
