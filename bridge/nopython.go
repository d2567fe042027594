//go:build nopython

package bridge

import "errors"

// errNoPython is what every entry point returns in a build without libpython.
var errNoPython = errors.New("built with -tags nopython: rebuild without it after installing libpython3.11-dev and pkg-config")

func pyInit(string, string) error                   { return errNoPython }
func pyImport(string) error                         { return errNoPython }
func pyCall(string, string, []byte) ([]byte, error) { return nil, errNoPython }
func pySetCancel(bool)                              {}
