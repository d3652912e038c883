// Command pushclient drives the official Go client's push package, unmodified,
// against a Pushgateway URL (shardgate in the tests). It pushes (PUT), adds
// (POST), pushes gzip-compressed through the package's Client hook, and
// deletes, then prints "ok". Any error exits 1 with the error.
//
//	pushclient http://127.0.0.1:9292
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
)

// gzipDoer compresses request bodies: the push package (client_golang 1.14)
// has no compression option, but lets callers supply the HTTP client.
type gzipDoer struct{}

func (gzipDoer) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Method == http.MethodDelete {
		return http.DefaultClient.Do(req)
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(&buf)
	req.ContentLength = int64(buf.Len())
	req.Header.Set("Content-Encoding", "gzip")
	return http.DefaultClient.Do(req)
}

func run(gateway string) error {
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "go_jobs_total", Help: "Jobs processed."})
	jobs.Add(3)
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_last_success", Help: "Last success."})
	last.Set(1234.5)
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "go_duration_seconds", Help: "Duration.", Buckets: []float64{0.1, 1}})
	dur.Observe(0.5)

	// PUT, protobuf (the package's default format); "host/1" travels as instance@base64.
	if err := push.New(gateway, "go-batch").Grouping("instance", "host/1").
		Collector(jobs).Collector(last).Collector(dur).Push(); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	// POST: adds a family, keeps the others.
	extra := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_extra", Help: "Added later."})
	extra.Set(7)
	if err := push.New(gateway, "go-batch").Grouping("instance", "host/1").Collector(extra).Add(); err != nil {
		return fmt.Errorf("add: %w", err)
	}
	// PUT in the text format, gzip-compressed.
	zipped := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_gzipped", Help: "Pushed gzip-compressed."})
	zipped.Set(1)
	if err := push.New(gateway, "go-gzip").Grouping("instance", "gz").Format(expfmt.FmtText).
		Client(gzipDoer{}).Collector(zipped).Push(); err != nil {
		return fmt.Errorf("gzip push: %w", err)
	}
	// Push, then delete the whole group.
	gone := push.New(gateway, "go-gone").Collector(jobs)
	if err := gone.Push(); err != nil {
		return fmt.Errorf("push before delete: %w", err)
	}
	if err := gone.Delete(); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pushclient GATEWAY_URL")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
