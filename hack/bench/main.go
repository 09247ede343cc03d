// Command bench compares "ksbuilder package" with "helm package" and
// "tar czf" on the corpus extensions, as whole processes, and measures the
// start-up time of "ksbuilder version" and the cost of .helmignore'd
// content. It rewrites the package section of docs/performance.md.
//
//	go run ./hack/bench -ksbuilder bin/ksbuilder -helm ~/.cache/.../helm
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

const (
	startMarker = "<!-- bench:package:start -->"
	endMarker   = "<!-- bench:package:end -->"
)

func main() {
	ksbuilder := flag.String("ksbuilder", "bin/ksbuilder", "ksbuilder binary")
	helm := flag.String("helm", "helm", "helm binary")
	corpus := flag.String("corpus", "testdata/corpus/ks-extensions", "directory of extensions")
	runs := flag.Int("runs", 10, "runs per measurement (the median is reported)")
	out := flag.String("out", "docs/performance.md", "file whose package section is rewritten")
	flag.Parse()
	log.SetFlags(0)

	work, err := os.MkdirTemp("", "ksbuilder-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## package\n\n", startMarker)
	fmt.Fprintf(&b, "Measured %s on %s (%d cores), %s, %d runs each, median wall time of the whole process.\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.Version(), *runs)
	fmt.Fprintf(&b, "`helm package` runs on a copy of the extension with the Chart.yaml ksbuilder generates; `tar czf` packs the same directory.\n\n")
	b.WriteString("| extension | files | ksbuilder package | helm package | tar czf | ksbuilder / helm | ksbuilder / tar |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")

	dirs, err := filepath.Glob(filepath.Join(*corpus, "*", "extension.yaml"))
	if err != nil || len(dirs) == 0 {
		log.Fatalf("no extensions under %s", *corpus)
	}
	var ratiosHelm, ratiosTar []float64
	for _, f := range dirs {
		dir := filepath.Dir(f)
		name := filepath.Base(dir)
		dest := filepath.Join(work, "out")
		ks := measure(*runs, *ksbuilder, "package", dir, "-d", dest)
		chartDir, files := helmCopy(dir, dest, work)
		hp := measure(*runs, *helm, "package", chartDir, "-d", dest)
		tz := measure(*runs, "tar", "czf", filepath.Join(dest, "plain.tgz"), "-C", dir, ".")
		ratiosHelm = append(ratiosHelm, ks.Seconds()/hp.Seconds())
		ratiosTar = append(ratiosTar, ks.Seconds()/tz.Seconds())
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %.2f | %.2f |\n", name, files, ms(ks), ms(hp), ms(tz), ks.Seconds()/hp.Seconds(), ks.Seconds()/tz.Seconds())
		log.Printf("%s: ksbuilder %s, helm %s, tar %s", name, ms(ks), ms(hp), ms(tz))
	}
	fmt.Fprintf(&b, "| **median** | | | | | **%.2f** | **%.2f** |\n\n", median(ratiosHelm), median(ratiosTar))
	b.WriteString("Targets: ksbuilder / helm ≤ 0.6, ksbuilder / tar ≤ 1.5.\n\n")

	// .helmignore'd content must not cost anything.
	base := filepath.Join(work, "ignored", "deepseek")
	copyDir(filepath.Join(*corpus, "deepseek"), base)
	before := measure(*runs, *ksbuilder, "package", base, "-d", filepath.Join(work, "out"))
	writeNodeModules(filepath.Join(base, "node_modules"), 200, 1<<20)
	appendFile(filepath.Join(base, ".helmignore"), "node_modules/\n")
	after := measure(*runs, *ksbuilder, "package", base, "-d", filepath.Join(work, "out"))
	fmt.Fprintf(&b, "### Ignored content\n\n`ksbuilder package` of deepseek: %s; with 200 MB of files under a `.helmignore`d `node_modules/`: %s (%+.1f %%; target: less than 10 %%).\n\n",
		ms(before), ms(after), 100*(after.Seconds()-before.Seconds())/before.Seconds())

	// Start-up.
	v := measure(*runs*3, *ksbuilder, "version")
	fmt.Fprintf(&b, "### Start-up\n\n`ksbuilder version`: %s (target ≤ 15 ms).\n%s\n", ms(v), endMarker)

	if err := replaceSection(*out, b.String()); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", *out)
}

// measure runs a command n times and returns the median wall time.
func measure(n int, name string, args ...string) time.Duration {
	times := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		cmd := exec.Command(name, args...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			log.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2]
}

// helmCopy copies an extension and adds the Chart.yaml ksbuilder generated
// for it (read from the package in dest), so helm packages the same chart.
func helmCopy(dir, dest, work string) (string, int) {
	name := filepath.Base(dir)
	matches, _ := filepath.Glob(filepath.Join(dest, name+"-*.tgz"))
	if len(matches) != 1 {
		log.Fatalf("no package of %s in %s", name, dest)
	}
	chartYAML, files := readPackage(matches[0], name+"/Chart.yaml")
	chartDir := filepath.Join(work, "helm", name)
	copyDir(dir, chartDir)
	if err := os.WriteFile(filepath.Join(chartDir, "Chart.yaml"), chartYAML, 0o644); err != nil {
		log.Fatal(err)
	}
	return chartDir, files
}

func readPackage(path, want string) ([]byte, int) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var data []byte
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return data, n
		}
		if err != nil {
			log.Fatal(err)
		}
		n++
		if h.Name == want {
			data, _ = io.ReadAll(tr)
		}
	}
}

func copyDir(src, dst string) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		log.Fatal(err)
	}
}

func writeNodeModules(dir string, files, size int) {
	chunk := bytes.Repeat([]byte("x"), size)
	for i := 0; i < files; i++ {
		p := filepath.Join(dir, fmt.Sprintf("pkg%03d", i), "index.js")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, chunk, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func appendFile(p, s string) {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		log.Fatal(err)
	}
}

// replaceSection swaps the text between the markers, or appends it.
func replaceSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := string(old)
	if text == "" {
		text = "# Performance\n\nNumbers from `make bench` (benchmarks, never timed assertions in tests).\n\n"
	}
	i, j := strings.Index(text, startMarker), strings.Index(text, endMarker)
	if i >= 0 && j > i {
		text = text[:i] + section + text[j+len(endMarker)+1:]
	} else {
		text += section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
