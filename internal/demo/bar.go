package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wmss/wmss"
)

// bar shows a job's progress: redrawn in place on a terminal, otherwise a
// line whenever the phase changes or another tenth of it is done.
type bar struct {
	w        io.Writer
	terminal bool
	start    time.Time
	phase    string
	tenth    int
}

func newBar(w io.Writer, terminal bool) *bar {
	return &bar{w: w, terminal: terminal, start: time.Now()}
}

type progress struct {
	Phase     string `json:"phase"`
	Benchmark string `json:"benchmark"`
	Step      int    `json:"step"`
	Total     int    `json:"total"`
	Stage     int    `json:"stage"`
	Stages    int    `json:"stages"`
}

func (b *bar) update(j *wmss.Job) {
	var p progress
	if len(j.Progress) == 0 || json.Unmarshal(j.Progress, &p) != nil || p.Total == 0 {
		return
	}
	name := p.Phase
	if p.Benchmark != "" {
		name += " " + p.Benchmark
	}
	if p.Stages > 0 {
		name = fmt.Sprintf("[%d/%d] %s", p.Stage, p.Stages, name)
	}
	frac := float64(p.Step) / float64(p.Total)
	if b.terminal {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(b.w, "\r   %-22s [%s%s] %d/%d  %s ", name, strings.Repeat("#", n), strings.Repeat(".", width-n),
			p.Step, p.Total, time.Since(b.start).Round(time.Second))
		return
	}
	if t := int(frac * 10); name != b.phase || t > b.tenth {
		fmt.Fprintf(b.w, "   %s %d/%d (%s)\n", name, p.Step, p.Total, time.Since(b.start).Round(time.Second))
		b.phase, b.tenth = name, t
	}
}

func (b *bar) done(j *wmss.Job) {
	if b.terminal {
		fmt.Fprintln(b.w)
	}
	fmt.Fprintf(b.w, "   job %s %s in %s\n", j.ID, j.State, time.Since(b.start).Round(time.Second))
}
