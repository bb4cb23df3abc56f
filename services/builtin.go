package services

import (
	"bytes"
	"sync"

	"github.com/portscan/portscan/data"
)

// Default returns the built-in catalog, parsed on first use.
var Default = sync.OnceValue(func() *Catalog {
	c, err := Parse(bytes.NewReader(data.PortsTSV), Builtin)
	if err != nil {
		// The embedded file is checked by the tests; a failure here is a
		// build that shipped a broken data file.
		panic("services: built-in catalog: " + err.Error())
	}
	return c
})
