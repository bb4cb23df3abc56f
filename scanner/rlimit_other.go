//go:build !linux

package scanner

import (
	"context"
	"errors"
	"time"
)

const rawAvailable = false

func fileLimit() int { return 1024 }

func newConnectProber(ctx context.Context, now func() time.Time) (prober, error) {
	return nil, errors.New("raw socket prober needs Linux")
}
