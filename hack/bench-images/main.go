// Command bench-images compares "ksbuilder images mirror" with a loop of
// "crane copy": it starts two registries on localhost (in this process,
// real HTTP servers), seeds the first with N random images of SIZE bytes,
// lists them in the images of an extension's extension.yaml, and times
// copying them all to the second registry both ways, as whole processes.
// It rewrites the images section of docs/performance.md.
//
//	go run ./hack/bench-images -ksbuilder bin/ksbuilder -crane ~/.cache/.../crane
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const (
	startMarker = "<!-- bench:images:start -->"
	endMarker   = "<!-- bench:images:end -->"
)

func main() {
	ksbuilder := flag.String("ksbuilder", "bin/ksbuilder", "ksbuilder binary")
	crane := flag.String("crane", "crane", "crane binary")
	n := flag.Int("images", 20, "images to copy")
	size := flag.Int64("size", 10<<20, "bytes of each image (one layer)")
	runs := flag.Int("runs", 5, "runs per measurement (the median is reported)")
	out := flag.String("out", "docs/performance.md", "file whose images section is rewritten")
	flag.Parse()
	log.SetFlags(0)

	src, _ := serve()
	work, err := os.MkdirTemp("", "ksbuilder-bench-images-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	// Seed the source registry.
	var refs []string
	for i := range *n {
		img, err := random.Image(*size, 1)
		if err != nil {
			log.Fatal(err)
		}
		ref := fmt.Sprintf("%s/bench/image-%02d:1", src, i)
		r, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			log.Fatal(err)
		}
		if err := remote.Write(r, img); err != nil {
			log.Fatal(err)
		}
		refs = append(refs, ref)
	}

	// An extension that lists them: its chart's own images come from the
	// source registry too.
	ext := filepath.Join(work, "bench")
	run(*ksbuilder, "create", "--no-prompt", "--name", "bench", "--category", "dev-tools", "--author", "bench", "--type", "frontend", "--dir", ext)
	for _, extra := range listOut(*ksbuilder, "images", ext, "--set", "global.imageRegistry="+src) {
		if !strings.HasPrefix(extra, src+"/") {
			continue
		}
		img, err := random.Image(1024, 1)
		if err != nil {
			log.Fatal(err)
		}
		r, err := name.ParseReference(extra, name.Insecure)
		if err != nil {
			log.Fatal(err)
		}
		if err := remote.Write(r, img); err != nil {
			log.Fatal(err)
		}
	}
	yaml := filepath.Join(ext, "extension.yaml")
	data, err := os.ReadFile(yaml)
	if err != nil {
		log.Fatal(err)
	}
	lines := "images:\n"
	for _, r := range refs {
		lines += "  - " + r + "\n"
	}
	text := string(data)
	i := strings.Index(text, "images:\n")
	if i < 0 {
		log.Fatal("extension.yaml has no images list")
	}
	j := i + len("images:\n")
	for j < len(text) && strings.HasPrefix(text[j:], "  - ") {
		j += strings.Index(text[j:], "\n") + 1
	}
	if err := os.WriteFile(yaml, []byte(text[:i]+lines+text[j:]), 0o644); err != nil {
		log.Fatal(err)
	}
	all := listOut(*ksbuilder, "images", ext, "--set", "global.imageRegistry="+src)
	if len(all) < *n {
		log.Fatalf("the extension lists %d images, want at least %d", len(all), *n)
	}

	target := func(prefix, img string) string { return prefix + "/" + strings.TrimPrefix(img, src+"/") }
	// measure copies every image to a new registry (go-containerregistry's
	// keeps blobs across repositories: a registry that already has them
	// would make every later copy a no-op), checks the digests and
	// returns the wall time.
	measure := func(copyAll func(dst string)) time.Duration {
		dst, stop := serve()
		defer stop()
		start := time.Now()
		copyAll(dst)
		d := time.Since(start)
		verify(all, func(img string) string { return target(dst+"/m", img) })
		return d
	}
	var ks, sp, cr, crp []time.Duration
	archive := filepath.Join(work, "images.tar")
	for range *runs {
		ks = append(ks, measure(func(dst string) {
			run(*ksbuilder, "images", "mirror", ext, "--registry", dst+"/m", "--plain-http", "--set", "global.imageRegistry="+src)
		}))
		sp = append(sp, measure(func(dst string) {
			run(*ksbuilder, "images", "save", ext, "-o", archive, "--plain-http", "--set", "global.imageRegistry="+src)
			run(*ksbuilder, "images", "push", archive, "--registry", dst+"/m", "--plain-http")
		}))
		cr = append(cr, measure(func(dst string) {
			for _, img := range all {
				run(*crane, "copy", "--insecure", img, target(dst+"/m", img))
			}
		}))
		// crane, 4 processes at a time, as ksbuilder's 4 jobs.
		crp = append(crp, measure(func(dst string) {
			var wg sync.WaitGroup
			sem := make(chan struct{}, 4)
			for _, img := range all {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					run(*crane, "copy", "--insecure", img, target(dst+"/m", img))
				}()
			}
			wg.Wait()
		}))
	}
	k, c, cp, kp := median(ks), median(cr), median(crp), median(sp)

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## images mirror\n\n", startMarker)
	fmt.Fprintf(&b, "Measured %s on %s (%d cores), %s, %d runs each, median wall time of the whole processes.\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.Version(), *runs)
	fmt.Fprintf(&b, "Two registries (go-containerregistry's, in the benchmark's process, HTTP on localhost); the source holds %d random images of %s (one layer each) listed in extension.yaml, plus the small image(s) of the chart (%d). Each measurement copies all %d images to a new, empty registry, and the digests are checked after each copy.\n\n",
		*n, mib(*size), len(all)-*n, len(all))
	fmt.Fprintf(&b, "| command | wall time | vs crane |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| `ksbuilder images mirror EXT --registry HOST/PREFIX` | %s | %.2f× |\n", sec(k), float64(k)/float64(c))
	fmt.Fprintf(&b, "| `ksbuilder images save EXT -o FILE.tar` then `images push FILE.tar --registry HOST/PREFIX` | %s | %.2f× |\n", sec(kp), float64(kp)/float64(c))
	fmt.Fprintf(&b, "| `crane copy SRC DST`, once per image | %s | 1× |\n", sec(c))
	fmt.Fprintf(&b, "| `crane copy SRC DST`, once per image, 4 processes at a time | %s | %.2f× |\n\n", sec(cp), float64(cp)/float64(c))
	fmt.Fprintf(&b, "Target: ≤ 1× crane. ksbuilder renders the chart, then copies %d images at a time (`--jobs`), blobs in parallel; crane copies one image per process. Reproduce with `make bench` (or `go run ./hack/bench-images -ksbuilder bin/ksbuilder -crane CRANE`).\n%s\n", 4, endMarker)
	if err := replaceSection(*out, b.String()); err != nil {
		log.Fatal(err)
	}
	fmt.Print(b.String())
}

// verify checks that every image has the same digest at its target.
func verify(imgs []string, target func(string) string) {
	for _, img := range imgs {
		var digests [2]string
		for i, ref := range []string{img, target(img)} {
			r, err := name.ParseReference(ref, name.Insecure)
			if err != nil {
				log.Fatal(err)
			}
			d, err := remote.Head(r)
			if err != nil {
				log.Fatalf("%s: %v", ref, err)
			}
			digests[i] = d.Digest.String()
		}
		if digests[0] != digests[1] {
			log.Fatalf("%s is %s, its copy %s is %s", img, digests[0], target(img), digests[1])
		}
	}
}

// serve starts a registry on localhost and returns its host:port and how
// to stop it.
func serve() (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: time.Minute}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	return l.Addr().String(), func() { _ = srv.Close() }
}

func run(bin string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = io.Discard
	if out, err := cmd.Output(); err != nil {
		log.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
}

func listOut(bin string, args ...string) []string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		log.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func sec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// replaceSection replaces the text between the markers, or appends it.
func replaceSection(path, section string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(data)
	i, j := strings.Index(text, startMarker), strings.Index(text, endMarker)
	if i >= 0 && j > i {
		text = text[:i] + section + text[j+len(endMarker)+1:]
	} else {
		text += section
	}
	return os.WriteFile(path, []byte(text), 0o644)
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
