package bench

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// writeTable writes the results as a Markdown table, with the physical
// limit and the ratios the targets are stated in.
func writeTable(out io.Writer, o Options, rate float64, results []Result, limit float64) {
	limitTime := time.Duration(limit / rate * float64(time.Second))
	fmt.Fprintf(out, "\n%s, %d CPUs; %d instances (%d hosts), %d systems, %d stores; uplink %s\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), len(instances()), len(Spec().Hosts), len(benchSystems()), len(benchSites()), o.Rate)
	fmt.Fprintln(out, "| method | wall time | × limit | sent by the runner | evaluations | ssh logins |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|")
	fmt.Fprintf(out, "| physical limit (%.1f MB at %s) | %s | 1.00 | %.1f MB | | |\n", limit/1e6, o.Rate, elapsed(limitTime), limit/1e6)
	for _, r := range results {
		fmt.Fprintf(out, "| %s | %s | %.2f | %.1f MB | %d | %d |\n", r.Name, elapsed(r.Wall), r.Wall.Seconds()/limitTime.Seconds(),
			float64(r.Bytes)/1e6, r.Evaluations, r.Logins)
	}
	if len(results) < 4 {
		return
	}
	hive, seq, par := results[0], results[2], results[3]
	fmt.Fprintf(out, "\nnix-hive: %.2f× the physical limit; %.1f× faster than the sequential loop, %.1f× than the parallel copy; "+
		"%.0f%% of the parallel copy's traffic; no-op redeploy %s.\n",
		hive.Wall.Seconds()/limitTime.Seconds(), seq.Wall.Seconds()/hive.Wall.Seconds(), par.Wall.Seconds()/hive.Wall.Seconds(),
		100*float64(hive.Bytes)/float64(par.Bytes), elapsed(results[1].Wall))
}
