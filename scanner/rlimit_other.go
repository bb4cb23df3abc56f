//go:build !linux

package scanner

import (
	"context"
	"errors"
	"time"
)

const rawAvailable = false

func fileLimit() int { return 1024 }

// openFiles is not counted here: the dial prober plans no descriptors.
func openFiles(limit int) int { return 3 }

func prepareRuntime() {}

func newConnectProber(ctx context.Context, now func() time.Time, plan filePlan) (prober, error) {
	return nil, errors.New("raw socket prober needs Linux")
}
