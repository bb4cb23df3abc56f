//go:build !linux

package scanner

import (
	"errors"
	"net/netip"
	"time"
)

type pingProber struct{ prober }

func newPingProber(now func() time.Time, inner prober, cfg *Config) (*pingProber, error) {
	return nil, errors.New("raw host discovery needs Linux")
}

func (pp *pingProber) plan(addr netip.Addr) []discProbe { return nil }
