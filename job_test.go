package wmss_test

import (
	"testing"

	"github.com/wmss/wmss"
)

func TestCanTransition(t *testing.T) {
	all := []wmss.JobState{wmss.StateQueued, wmss.StateRunning, wmss.StateSucceeded, wmss.StateFailed, wmss.StateCancelled}
	allowed := map[[2]wmss.JobState]bool{
		{wmss.StateQueued, wmss.StateRunning}:    true,
		{wmss.StateQueued, wmss.StateCancelled}:  true,
		{wmss.StateQueued, wmss.StateFailed}:     true,
		{wmss.StateRunning, wmss.StateSucceeded}: true,
		{wmss.StateRunning, wmss.StateFailed}:    true,
		{wmss.StateRunning, wmss.StateCancelled}: true,
		{wmss.StateRunning, wmss.StateQueued}:    true,
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := wmss.CanTransition(from, to), allowed[[2]wmss.JobState{from, to}]; got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
		if got, want := from.Terminal(), from == wmss.StateSucceeded || from == wmss.StateFailed || from == wmss.StateCancelled; got != want {
			t.Errorf("%s.Terminal() = %v", from, got)
		}
	}
}
