// Command bench compares "ksbuilder package" with "helm package" and
// "tar czf" on the corpus extensions, and "ksbuilder version" with "helm
// version", as whole processes run in turns (A B A B ...) so that both
// tools see the same load; it reports CPU time (user + system), which a
// shared machine disturbs less than wall time. It also lists the package
// initialisations "ksbuilder version" pays (GODEBUG=inittrace=1) and the
// cost of .helmignore'd content, prints the ratios, and rewrites the
// package section of docs/performance.md.
//
//	go run ./hack/bench -ksbuilder bin/ksbuilder -helm ~/.cache/.../helm
package main

import (
	"archive/tar"
	"bufio"
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
	"strconv"
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
	runs := flag.Int("runs", 15, "runs of each command (in turns with the other tools; medians are reported)")
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
	fmt.Fprintf(&b, "`hack/bench` (%s, %s, %d cores, %s, load average %s at the start): each command ran %d times, "+
		"in turns with the commands it is compared with (A B C A B C ...), so that all see the same load; "+
		"CPU is user + system time of the whole process, the median of the runs, with the range of the middle half "+
		"of the per-turn ratios in brackets. Wall times move with the other work on the machine; compare ratios.\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.Version(), loadAverage(), *runs)
	fmt.Fprintf(&b, "`helm package` (%s) runs on a copy of the extension with the Chart.yaml ksbuilder generates; `tar czf` packs the same directory.\n\n", toolVersion(*helm, "version", "--short"))
	b.WriteString("| extension | files | ksbuilder CPU | helm CPU | ksbuilder / helm (CPU) | ksbuilder wall | helm wall | tar wall | ksbuilder / helm (wall) | ksbuilder / tar (wall) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")

	dirs, err := filepath.Glob(filepath.Join(*corpus, "*", "extension.yaml"))
	if err != nil || len(dirs) == 0 {
		log.Fatalf("no extensions under %s", *corpus)
	}
	var ratiosHelm, ratiosHelmWall, ratiosTar []float64
	for _, f := range dirs {
		dir := filepath.Dir(f)
		name := filepath.Base(dir)
		dest := filepath.Join(work, "out")
		run(*ksbuilder, "package", dir, "-d", dest) // the Chart.yaml helm packages
		chartDir, files := helmCopy(dir, dest, work)
		r := interleave(*runs,
			command{*ksbuilder, "package", dir, "-d", dest},
			command{*helm, "package", chartDir, "-d", dest},
			command{"tar", "czf", filepath.Join(dest, "plain.tgz"), "-C", dir, "."})
		ks, hp, tz := r[0], r[1], r[2]
		cpu := ratios(ks.cpu, hp.cpu)
		wall := ratios(ks.wall, hp.wall)
		tar := ratios(ks.wall, tz.wall)
		ratiosHelm = append(ratiosHelm, median(cpu))
		ratiosHelmWall = append(ratiosHelmWall, median(wall))
		ratiosTar = append(ratiosTar, median(tar))
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %.2f | %.2f |\n", name, files,
			ms(median(ks.cpu)), ms(median(hp.cpu)), spread(cpu), ms(median(ks.wall)), ms(median(hp.wall)), ms(median(tz.wall)), median(wall), median(tar))
		log.Printf("package %s: CPU ksbuilder %s, helm %s, ratio %s; wall ksbuilder %s, helm %s, tar %s",
			name, ms(median(ks.cpu)), ms(median(hp.cpu)), spread(cpu), ms(median(ks.wall)), ms(median(hp.wall)), ms(median(tz.wall)))
	}
	fmt.Fprintf(&b, "| **median** | | | | **%.2f** | | | | **%.2f** | **%.2f** |\n\n", median(ratiosHelm), median(ratiosHelmWall), median(ratiosTar))
	b.WriteString("Targets: ksbuilder / helm ≤ 0.6, ksbuilder / tar ≤ 1.5.\n\n")
	log.Printf("package: median ksbuilder / helm %.2f CPU, %.2f wall (target <= 0.6); ksbuilder / tar %.2f wall", median(ratiosHelm), median(ratiosHelmWall), median(ratiosTar))

	// .helmignore'd content must not cost anything.
	base := filepath.Join(work, "ignored", "deepseek")
	copyDir(filepath.Join(*corpus, "deepseek"), base)
	heavy := filepath.Join(work, "ignored-heavy", "deepseek")
	copyDir(filepath.Join(*corpus, "deepseek"), heavy)
	writeNodeModules(filepath.Join(heavy, "node_modules"), 200, 1<<20)
	appendFile(filepath.Join(heavy, ".helmignore"), "node_modules/\n")
	r := interleave(*runs,
		command{*ksbuilder, "package", base, "-d", filepath.Join(work, "out")},
		command{*ksbuilder, "package", heavy, "-d", filepath.Join(work, "out")})
	before, after := median(r[0].wall), median(r[1].wall)
	fmt.Fprintf(&b, "### Ignored content\n\n`ksbuilder package` of deepseek: %s wall; with 200 MB of files under a `.helmignore`d `node_modules/`: %s (%+.1f %%; target: less than 10 %%).\n\n",
		ms(before), ms(after), 100*(after-before)/before)

	// Start-up.
	r = interleave(*runs*2, command{*ksbuilder, "version"}, command{*helm, "version"})
	startup := ratios(r[0].cpu, r[1].cpu)
	fmt.Fprintf(&b, "### Start-up\n\n`ksbuilder version`: %s CPU, %s wall; `helm version`: %s CPU, %s wall (%d runs each, in turns). "+
		"ksbuilder / helm: %s CPU (target ≤ 0.5), %.2f wall.\n\n",
		ms(median(r[0].cpu)), ms(median(r[0].wall)), ms(median(r[1].cpu)), ms(median(r[1].wall)), *runs*2, spread(startup), median(ratios(r[0].wall, r[1].wall)))
	log.Printf("start-up: ksbuilder version %s CPU, helm version %s CPU, ratio %s (target <= 0.5)", ms(median(r[0].cpu)), ms(median(r[1].cpu)), spread(startup))

	inits, total := initCosts(*runs, *ksbuilder)
	fmt.Fprintf(&b, "Package initialisation of `ksbuilder version` (`GODEBUG=inittrace=1`, median of %d runs): %.1f ms in all; the largest:\n\n", *runs, total)
	b.WriteString("| package | init (ms) | allocated (KiB) |\n|---|---:|---:|\n")
	for _, in := range inits {
		fmt.Fprintf(&b, "| `%s` | %.2f | %.0f |\n", in.pkg, in.ms, in.kb)
	}
	b.WriteString(endMarker + "\n")
	log.Printf("start-up: package initialisation %.1f ms in all", total)

	if err := replaceSection(*out, b.String()); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", *out)
}

// command is a program and its arguments.
type command []string

// timings are the CPU (user + system) and wall times of a command's runs,
// in milliseconds.
type timings struct{ cpu, wall []float64 }

// interleave runs the commands in turns, n rounds, and returns each one's
// timings.
func interleave(n int, cmds ...command) []timings {
	out := make([]timings, len(cmds))
	for i := 0; i < n; i++ {
		for j, c := range cmds {
			cpu, wall := run(c[0], c[1:]...)
			out[j].cpu = append(out[j].cpu, cpu)
			out[j].wall = append(out[j].wall, wall)
		}
	}
	return out
}

// run runs a command once and returns its CPU and wall time in ms.
func run(name string, args ...string) (cpu, wall float64) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	wall = float64(time.Since(start).Microseconds()) / 1000
	st := cmd.ProcessState
	cpu = float64((st.UserTime() + st.SystemTime()).Microseconds()) / 1000
	return cpu, wall
}

// ratios divides the runs of one turn by each other.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

// spread is the median of xs with the range of their middle half.
func spread(xs []float64) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return fmt.Sprintf("%.2f [%.2f-%.2f]", median(s), s[len(s)/4], s[(3*len(s))/4])
}

// initCost is one package's initialisation: clock time, and the memory
// it allocates (which, unlike the time, the machine's load does not move).
type initCost struct {
	pkg string
	ms  float64
	kb  float64
}

// initCosts runs "ksbuilder version" with GODEBUG=inittrace=1 and returns
// the packages whose initialisation costs most (median clock time of the
// runs) and the median of the total.
func initCosts(n int, ksbuilder string) ([]initCost, float64) {
	per := map[string][]float64{}
	kb := map[string]float64{}
	var totals []float64
	for i := 0; i < n; i++ {
		cmd := exec.Command(ksbuilder, "version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("%s version: %v", ksbuilder, err)
		}
		total := 0.0
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			// init PKG @0.5 ms, 0.12 ms clock, 1024 bytes, 10 allocs
			f := strings.Fields(sc.Text())
			if len(f) < 8 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			per[f[1]] = append(per[f[1]], v)
			if b, err := strconv.ParseFloat(f[7], 64); err == nil {
				kb[f[1]] = b / 1024
			}
			total += v
		}
		totals = append(totals, total)
	}
	var out []initCost
	for pkg, vs := range per {
		for len(vs) < n {
			vs = append(vs, 0)
		}
		out = append(out, initCost{pkg, median(vs), kb[pkg]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ms > out[j].ms })
	if len(out) > 12 {
		out = out[:12]
	}
	return out, median(totals)
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

func ms(v float64) string { return fmt.Sprintf("%.1f ms", v) }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// loadAverage is the one-minute load average, or "?".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// toolVersion is the first line a tool prints for args, or "?".
func toolVersion(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
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
