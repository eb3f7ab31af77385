//go:build windows

package platform

import (
	"errors"
	"os"
)

// HeldSocket: a socket is never passed to a child on Windows (spawn relays
// through pipes there), so none is held.
type HeldSocket struct{}

// HoldSocket is not supported on Windows.
func HoldSocket(*os.File) (*HeldSocket, error) { return nil, errors.ErrUnsupported }

// Shutdown does nothing on Windows.
func (*HeldSocket) Shutdown() error { return errors.ErrUnsupported }

// Close does nothing on Windows.
func (*HeldSocket) Close() error { return nil }
