package bridge_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkCall_Noop measures one round trip: queue to the owner thread,
// dispatch in Python, reply. Target (issue 2): median under 20 µs.
// It reports the median as median-ns/op beside Go's mean.
func BenchmarkCall_Noop(b *testing.B) {
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		if _, err := ip.Call(ctx, selftest+"noop", nil); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	reportMedian(b, lat)
}

func reportMedian(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns/op")
}

// BenchmarkCall_Echo1MB sends about 1 MB of JSON each way.
func BenchmarkCall_Echo1MB(b *testing.B) {
	ctx := context.Background()
	args := map[string]string{"value": strings.Repeat("x", 1<<20)}
	b.SetBytes(2 << 20)
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		if _, err := ip.Call(ctx, selftest+"echo", args); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	reportMedian(b, lat)
}
