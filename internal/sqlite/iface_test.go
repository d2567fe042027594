package sqlite_test

import (
	"github.com/wmss/wmss"
	"github.com/wmss/wmss/internal/sqlite"
)

var _ wmss.JobStore = (*sqlite.DB)(nil)
