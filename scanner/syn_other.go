//go:build !linux

package scanner

import (
	"context"
	"errors"
	"time"
)

const synAvailable = false

func newSynProber(ctx context.Context, now func() time.Time, minTimeout, initTimeout time.Duration, udp func() (prober, error)) (prober, error) {
	return nil, errors.New("SYN scans need Linux")
}
