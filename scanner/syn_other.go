//go:build !linux

package scanner

import (
	"context"
	"errors"
	"time"
)

const synAvailable = false

func newSynProber(ctx context.Context, now func() time.Time, udp func() (prober, error)) (prober, error) {
	return nil, errors.New("SYN scans need Linux")
}
