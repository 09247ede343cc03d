package packager

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// writeArchive writes the chart as a gzip-compressed tar in Helm's layout:
// every file under "<chart name>/", subcharts (directories and .tgz alike)
// expanded under "charts/<subchart name>/", no directory entries. Within each
// chart, Chart.yaml, Chart.lock, values.yaml and values.schema.json come
// first, then the other files sorted by path, then the subcharts sorted by
// name. Every entry has mode 0644, owner 0:0 and the given mtime; the gzip
// header carries no name and the same mtime. So equal input gives equal bytes.
//
// chartYAML is the top chart's Chart.yaml, already rendered from its
// metadata (subcharts' are re-rendered, as Helm does).
//
// Compression is fast by default; a package that comes out above WarnSize is
// compressed again at the best level, to keep as far from the size limit as
// gzip allows. Either way the result depends only on the input.
func writeArchive(c *chart.Chart, chartYAML []byte, mtime time.Time) ([]byte, []Entry, error) {
	data, entries, err := writeArchiveLevel(c, chartYAML, mtime, gzip.DefaultCompression)
	if err == nil && int64(len(data)) > WarnSize {
		data, entries, err = writeArchiveLevel(c, chartYAML, mtime, gzip.BestCompression)
	}
	return data, entries, err
}

func writeArchiveLevel(c *chart.Chart, chartYAML []byte, mtime time.Time, level int) ([]byte, []Entry, error) {
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, nil, err
	}
	zw.ModTime = mtime
	tw := tar.NewWriter(zw)
	w := &archiveWriter{tw: tw, mtime: mtime.UTC()}
	if err := w.chart(c, chartYAML, ""); err != nil {
		return nil, nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), w.entries, nil
}

type archiveWriter struct {
	tw      *tar.Writer
	mtime   time.Time
	entries []Entry
	names   map[string]bool
}

func (w *archiveWriter) file(name string, data []byte) error {
	if w.names == nil {
		w.names = map[string]bool{}
	}
	if w.names[name] {
		return fmt.Errorf("two files map to %s in the package (two subcharts with the same name?)", name)
	}
	w.names[name] = true
	h := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o644,
		Size:     int64(len(data)),
		ModTime:  w.mtime,
	}
	if err := w.tw.WriteHeader(h); err != nil {
		return err
	}
	if _, err := w.tw.Write(data); err != nil {
		return err
	}
	w.entries = append(w.entries, Entry{Name: name, Size: int64(len(data)), data: data})
	return nil
}

func (w *archiveWriter) chart(c *chart.Chart, chartYAML []byte, prefix string) error {
	name := c.Name()
	if name == "" || name != path.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("chart name %q cannot be used as a directory name", name)
	}
	base := path.Join(prefix, name)

	if chartYAML == nil {
		md := *c.Metadata
		if md.APIVersion == chart.APIVersionV1 {
			md.Dependencies = nil // v1 charts keep them in requirements.yaml
		}
		var err error
		if chartYAML, err = yaml.Marshal(&md); err != nil {
			return err
		}
	}
	if err := w.file(base+"/Chart.yaml", chartYAML); err != nil {
		return err
	}
	if c.Lock != nil && c.Metadata.APIVersion == chart.APIVersionV2 {
		lock, err := yaml.Marshal(c.Lock)
		if err != nil {
			return err
		}
		if err := w.file(base+"/Chart.lock", lock); err != nil {
			return err
		}
	}
	for _, f := range c.Raw {
		if f.Name == "values.yaml" {
			if err := w.file(base+"/values.yaml", f.Data); err != nil {
				return err
			}
			break
		}
	}
	if c.Schema != nil {
		if !json.Valid(c.Schema) {
			return fmt.Errorf("%s/values.schema.json is not valid JSON", base)
		}
		if err := w.file(base+"/values.schema.json", c.Schema); err != nil {
			return err
		}
	}
	rest := make([]*chart.File, 0, len(c.Templates)+len(c.Files))
	rest = append(rest, c.Templates...)
	rest = append(rest, c.Files...)
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name < rest[j].Name })
	for _, f := range rest {
		if err := w.file(base+"/"+f.Name, f.Data); err != nil {
			return err
		}
	}
	deps := append([]*chart.Chart(nil), c.Dependencies()...)
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name() < deps[j].Name() })
	for _, d := range deps {
		if err := w.chart(d, nil, base+"/charts"); err != nil {
			return err
		}
	}
	return nil
}

// EntrySize is an archive entry with its estimated compressed size.
type EntrySize struct {
	Name           string `json:"name"`
	Size           int64  `json:"size"`
	CompressedSize int64  `json:"compressedSize"`
	// NamedBy are the extension.yaml fields that name the file (icon,
	// screenshots[i]): it must not be left out.
	NamedBy []string `json:"namedBy,omitempty"`
}

// Largest returns the n entries that contribute most to the archive size.
// Each entry is compressed on its own to estimate its share.
func (p *Package) Largest(n int) []EntrySize {
	out := make([]EntrySize, 0, len(p.Entries))
	named := p.assetFields()
	for _, e := range p.Entries {
		out = append(out, EntrySize{Name: e.Name, Size: e.Size, CompressedSize: deflatedSize(e.data), NamedBy: named[e.Name]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CompressedSize > out[j].CompressedSize })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func deflatedSize(data []byte) int64 {
	var cw countingWriter
	fw, _ := flate.NewWriter(&cw, flate.DefaultCompression)
	_, _ = fw.Write(data)
	_ = fw.Close()
	return cw.n
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// WriteFile writes the package into dir as <name>-<version>.tgz, atomically:
// the archive goes to a temporary file in dir that is renamed into place, so
// a failed write never leaves a partial package behind. The temporary file
// is named by source.TempFilePattern: no extension ever takes it in, and
// those a killed run left in dir are removed.
func WriteFile(p *Package, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	removeStaleTempFiles(dir)
	dest := filepath.Join(dir, p.FileName())
	tmp, err := os.CreateTemp(dir, source.TempFilePattern(os.Getpid(), p.FileName()))
	if err != nil {
		return "", err
	}
	cleanup := func(err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if _, err := tmp.Write(p.Data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return dest, nil
}

// removeStaleTempFiles removes the temporary files in dir whose process is
// no longer running. It is best effort: what cannot be removed stays, and
// is never packaged anyway.
func removeStaleTempFiles(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := source.TempFileOwner(e.Name())
		if ok && e.Type().IsRegular() && pid != os.Getpid() && !processRunning(pid) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
