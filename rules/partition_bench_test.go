package rules

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPartition: the events/s of one of N partitioned engines, as a ratio to one unpartitioned
// engine measured in the same run over the same events. Each partition still sees every event (it
// hashes the keys of the candidate rules), but runs only its share of the conditions and windows.
//
//	go test ./rules -run X -bench Partition -cpu 1
func BenchmarkPartition(b *testing.B) {
	events := benchEvents(1 << 14)
	for _, set := range []struct{ name, dir string }{{"default_pack", "default"}, {"200_rules", variantRules(b)}} {
		rs, err := Load(context.Background(), set.dir, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, count := range []int{2, 4} {
			b.Run(fmt.Sprintf("%s/1_of_%d", set.name, count), func(b *testing.B) {
				whole, _ := NewEngine(Options{Rules: rs})
				part, _ := NewEngine(Options{Rules: rs, Partition: Partition{Index: 0, Count: count}})
				base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
				// Alternate chunks of the two, so that a change in the machine's load hits both alike.
				var tw, tp time.Duration
				eval := func(en *Engine, from, to int) time.Duration {
					start := time.Now()
					for i := from; i < to; i++ {
						e := events[i&(len(events)-1)]
						e.Timestamp = base.Add(time.Duration(i) * time.Millisecond)
						en.Eval(e)
					}
					return time.Since(start)
				}
				b.ResetTimer()
				for from := 0; from < b.N; from += 4096 {
					to := min(from+4096, b.N)
					tw += eval(whole, from, to)
					tp += eval(part, from, to)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/tp.Seconds(), "events/s")
				b.ReportMetric(tw.Seconds()/tp.Seconds(), "x_unpartitioned")
				sw, sp := whole.Stats(), part.Stats()
				b.ReportMetric(float64(sp.Evaluated)/float64(sw.Evaluated), "conds_share")
			})
		}
	}
}
