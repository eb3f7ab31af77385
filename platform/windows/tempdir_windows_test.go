package windows

import (
	"imapd/internal/testdir"
)

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New
