//go:build unix

package dev_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/kindsfixture"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
)

// corpusDirs are the extensions of testdata/corpus.
func corpusDirs(b *testing.B) []string {
	b.Helper()
	var dirs []string
	for _, group := range []string{"ks-extensions", "extension-samples"} {
		entries, err := os.ReadDir(filepath.Join("../../testdata/corpus", group))
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range entries {
			dir := filepath.Join("../../testdata/corpus", group, e.Name())
			if _, err := os.Stat(filepath.Join(dir, "extension.yaml")); err == nil {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// extensionName reads the name from extension.yaml.
func extensionName(b *testing.B, dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "extension.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "name:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	b.Fatalf("%s: no name", dir)
	return ""
}

// pause separates the changes of BenchmarkChange, as a developer's saves
// are: a LIST right after writes waits for the API server's watch cache to
// catch up with etcd (consistent reads from the cache), up to ~100ms, which
// back-to-back changes would measure instead of ksbuilder.
const pause = time.Second

// BenchmarkChange measures ksbuilder's own time from a file change event
// to the InstallPlan updated (the API server's writes included,
// KubeSphere's work not: the test controller ignores these extensions'
// plans, so no write waits out a release in Preparing as install and
// upgrade do on a real cluster), for each corpus extension: a template-side change
// (check, package, publish VERSION-dev.N, upgrade the plan) and a
// values.yaml change (check, update the config). own-ms is the time after
// the debounce (1ms here) to the plan write; wall-ms adds the debounce,
// and the pruning of old development versions that follows the write.
// cpu-ms is the CPU time of the test process over the same span (user and
// system; the API server and etcd run in processes of their own): on a
// loaded machine it moves less than the times.
func BenchmarkChange(b *testing.B) {
	testEnv.Require(b)
	for _, src := range corpusDirs(b) {
		name := extensionName(b, src)
		b.Run(filepath.Base(src), func(b *testing.B) {
			controller.SetBehaviour(name, testcontroller.Behaviour{Ignore: true})
			dir := filepath.Join(b.TempDir(), filepath.Base(src))
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				b.Fatal(err)
			}
			ctx := testContext(b)
			rec := newRecorder(b)
			rec.quiet = os.Getenv("DEV_BENCH_LOG") == ""
			events := newFakeSource()
			// No cleanup: the controller ignores the uninstall too.
			// The wait reads the plan every 2s, as the command's does: the
			// tests' 200ms would use up client-go's 5 requests a second.
			stop := startSession(b, rec, dev.Options{Dir: dir, Events: events, Debounce: time.Millisecond,
				Wait: cluster.WaitOptions{Timeout: time.Minute, Interval: cluster.DefaultInterval}})
			if v := rec.await(ctx, "the first installation", func(v any) bool {
				switch v.(type) {
				case dev.Applied, problem, ended:
					return true
				}
				return false
			}); v != nil {
				if _, ok := v.(dev.Applied); !ok {
					b.Skipf("%s cannot be installed on the test cluster: %v", name, v)
				}
			}
			edits := 0 // every edit is new: an unchanged file is not published
			measure := func(b *testing.B, file string, change func(i int) string, valuesOnly bool) {
				var own, wall, cpu time.Duration
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					time.Sleep(pause)
					edits++
					if err := os.WriteFile(filepath.Join(dir, file), []byte(change(edits)), 0o644); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					start, startCPU := time.Now(), processCPU(b)
					events.events <- filepath.Join(dir, file)
					a := rec.await(ctx, "the InstallPlan write", func(v any) bool {
						switch v := v.(type) {
						case problem:
							b.Fatalf("problem: %v", v.err)
						case dev.Applied:
							return true
						}
						return false
					}).(dev.Applied)
					wall += time.Since(start)
					cpu += processCPU(b) - startCPU
					own += a.Elapsed
					if a.ValuesOnly != valuesOnly {
						b.Fatalf("applied %+v", a)
					}
				}
				b.ReportMetric(float64(own.Microseconds())/1000/float64(b.N), "own-ms")
				b.ReportMetric(float64(wall.Microseconds())/1000/float64(b.N), "wall-ms")
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms")
			}
			b.Run("publish", func(b *testing.B) {
				measure(b, "dev-bench.txt", func(i int) string { return fmt.Sprintf("change %d\n", i) }, false)
			})
			values, err := os.ReadFile(filepath.Join(src, "values.yaml"))
			if err != nil {
				b.Fatal(err)
			}
			b.Run("values", func(b *testing.B) {
				measure(b, "values.yaml", func(i int) string { return fmt.Sprintf("%s\ndevBench: %d\n", values, i) }, true)
			})
			if err := stop(); !errors.Is(err, context.Canceled) {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkSaveToInstalled measures the whole loop on the sample
// extension: from a file saved (real file system events, the default
// debounce) to KubeSphere's report of the new version installed, with the
// test controller, whose executor job lasts 300ms before Helm runs.
// own-ms is ksbuilder's part, up to the InstallPlan write.
func BenchmarkSaveToInstalled(b *testing.B) {
	testEnv.Require(b)
	src := "../../testdata/corpus/extension-samples/hello-world"
	dir := filepath.Join(b.TempDir(), "hello-world")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	// Another name than in BenchmarkChange, where the controller ignores it.
	metadata := filepath.Join(dir, "extension.yaml")
	data, err := os.ReadFile(metadata)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(metadata, []byte(strings.Replace(string(data), "name: hello-world", "name: hello-installed", 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := testContext(b)
	rec := newRecorder(b)
	rec.quiet = true
	stop := startSession(b, rec, dev.Options{Dir: dir, Cleanup: true,
		Wait: cluster.WaitOptions{Timeout: time.Minute, Interval: cluster.DefaultInterval}})
	awaitSettled := func() {
		rec.await(ctx, "installed", func(v any) bool {
			switch v := v.(type) {
			case problem:
				b.Fatalf("problem: %v", v.err)
			case ended:
				b.Fatalf("the session ended: %v", v.err)
			case settled:
				if v.err != nil {
					b.Fatalf("installation failed: %v", v.err)
				}
				return true
			}
			return false
		})
	}
	awaitSettled()
	var own time.Duration
	b.ResetTimer()
	for i := range b.N {
		if err := os.WriteFile(filepath.Join(dir, "dev-bench.txt"), []byte(fmt.Sprintf("change %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		a := rec.await(ctx, "applied", func(v any) bool { _, ok := v.(dev.Applied); return ok }).(dev.Applied)
		own += a.Elapsed
		awaitSettled()
	}
	b.ReportMetric(float64(own.Microseconds())/1000/float64(b.N), "own-ms")
	b.StopTimer()
	if err := stop(); !errors.Is(err, context.Canceled) {
		b.Fatal(err)
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// corpusBundle reads the bundle a corpus sample ships in its ConfigMap.
func corpusBundle(b *testing.B, template string) string {
	b.Helper()
	data, err := os.ReadFile(template)
	if err != nil {
		b.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		if !strings.Contains(doc, "kind: ConfigMap") {
			continue
		}
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal([]byte(doc), &cm); err != nil {
			b.Fatal(err)
		}
		if js := cm.Data["index.js"]; js != "" {
			return js
		}
	}
	b.Fatalf("%s: no ConfigMap with index.js", template)
	return ""
}

// BenchmarkFrontend measures "dev --frontend": ksbuilder's own time
// (own-ms) from a change of the bundle file (after the debounce, 1ms here)
// to the bundle's ConfigMap updated on the API server, with the real
// bundles of the corpus samples in an extension that keeps its bundle in
// charts/frontend/files/index.js; wall-ms adds the debounce and the copy
// into the chart file. The updates are a second apart, as a developer's
// builds are: client-go allows 5 requests a second.
func BenchmarkFrontend(b *testing.B) {
	testEnv.Require(b)
	for _, sample := range []struct{ name, template string }{
		{"hello-world", "../../testdata/corpus/extension-samples/hello-world/charts/frontend/templates/extension.yaml"},
		{"grafana-ext", "../../testdata/corpus/extension-samples/grafana-ext/charts/frontend/templates/jsbundle.yaml"},
	} {
		b.Run(sample.name, func(b *testing.B) {
			js := corpusBundle(b, sample.template)
			name := "bench-frontend-" + strings.TrimSuffix(sample.name, "-ext")
			dir := kindsfixture.Write(b, filepath.Join(b.TempDir(), name), name, kindsfixture.Options{Bundle: js})
			bundle := filepath.Join(b.TempDir(), "index.js")
			ctx := testContext(b)
			rec := newRecorder(b)
			rec.quiet = os.Getenv("DEV_BENCH_LOG") == ""
			events := newFakeSource()
			stop := startSession(b, rec, dev.Options{Dir: dir, Events: events, Frontend: bundle, Debounce: time.Millisecond, Cleanup: true,
				Wait: cluster.WaitOptions{Timeout: time.Minute, Interval: cluster.DefaultInterval}})
			rec.await(ctx, "the first installation", func(v any) bool {
				switch v := v.(type) {
				case problem:
					b.Fatalf("problem: %v", v.err)
				case settled:
					if v.err != nil {
						b.Fatalf("installation failed: %v", v.err)
					}
					return true
				}
				return false
			})
			var own, wall time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				time.Sleep(pause)
				if err := os.WriteFile(bundle, []byte(fmt.Sprintf("%s\n// build %d\n", js, i)), 0o644); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				events.events <- bundle
				up := rec.await(ctx, "the bundle updated", func(v any) bool {
					switch v := v.(type) {
					case problem:
						b.Fatalf("problem: %v", v.err)
					case dev.BundleUpdate:
						return true
					}
					return false
				}).(dev.BundleUpdate)
				wall += time.Since(start)
				own += up.Elapsed
				if up.ChartFile == "" {
					b.Fatalf("the bundle was not copied into the chart: %+v", up)
				}
			}
			b.ReportMetric(float64(own.Microseconds())/1000/float64(b.N), "own-ms")
			b.ReportMetric(float64(wall.Microseconds())/1000/float64(b.N), "wall-ms")
			b.ReportMetric(float64(len(js)), "bundle-bytes")
			b.StopTimer()
			if err := stop(); !errors.Is(err, context.Canceled) {
				b.Fatal(err)
			}
		})
	}
}
