package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// CPUOptions configures a measurement of this machine's CPUs: Sign and
// Verify. Zero fields take the defaults.
type CPUOptions struct {
	// Alg is RS256 (the default), ES256 or EdDSA.
	Alg string
	// Duration is how long to run for; default 10s.
	Duration time.Duration
	// Workers is the number of goroutines; default GOMAXPROCS, which keeps
	// every core busy.
	Workers int
}

func (o CPUOptions) withDefaults() CPUOptions {
	if o.Alg == "" {
		o.Alg = "RS256"
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// CPURun is what Sign and Verify report about the run itself; their
// results start with it.
type CPURun struct {
	Alg       string        `json:"alg"`
	Workers   int           `json:"workers"`
	CPUs      int           `json:"cpus"`
	GoVersion string        `json:"go_version"`
	Elapsed   time.Duration `json:"-"`
}

// onEveryCPU runs loop on o.Workers goroutines at once, each recording
// into a histogram of its own, until o.Duration has passed or ctx is done
// (loop must return then). It returns the histograms merged and the run,
// whose Alg is alg; an error of any loop fails the run.
func onEveryCPU(ctx context.Context, o CPUOptions, alg string, loop func(ctx context.Context, worker int, h *Histogram) error) (*Histogram, CPURun, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	hists := make([]*Histogram, o.Workers)
	errs := make([]error, o.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.Workers {
		hists[i] = NewHistogram()
		wg.Go(func() { errs[i] = loop(ctx, i, hists[i]) })
	}
	wg.Wait()
	run := CPURun{Alg: alg, Workers: o.Workers, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Elapsed: time.Since(start)}
	if err := errors.Join(errs...); err != nil {
		return nil, run, err
	}
	all := NewHistogram()
	for _, h := range hists {
		all.Merge(h)
	}
	return all, run, nil
}
