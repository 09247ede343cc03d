package dev

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// fetchedSubcharts are the subcharts last fetched for the extension's
// dependencies declared with a repository, and what they were fetched
// for.
type fetchedSubcharts struct {
	// key identifies what the fetch depended on (see dependencyKey).
	key [32]byte
	// result is what the fetch added to the source; nil when it added
	// nothing (vendored subcharts).
	result *dependency.Result
}

// addSubcharts adds to src the subcharts of the dependencies declared
// with a repository, in memory only: the watched directory is left alone.
// They are fetched again only when extension.yaml's dependencies, the
// Chart.lock on disk or the entries of charts/ changed since the last
// fetch; otherwise the archives kept from it are added. A failed fetch is
// a diagnostic of extension.yaml, like any other broken change.
func (s *session) addSubcharts(ctx context.Context, src *source.Source, ext *extension.Extension) error {
	if !slices.ContainsFunc(ext.Dependencies, func(d extension.Dependency) bool { return dependency.IsRemote(d.Repository) }) {
		return nil
	}
	key, err := s.dependencyKey(src, ext)
	if err != nil {
		return err
	}
	if s.subcharts != nil && s.subcharts.key == key {
		s.subcharts.result.AddTo(src)
		return nil
	}
	opts := s.opts.Dependencies
	opts.InMemory = true
	opts.Progress = func(format string, args ...any) { s.rep.Step(fmt.Sprintf(format, args...)) }
	res, err := dependency.Prepare(ctx, src, opts)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.subcharts = nil
		return (diag.List{{
			Severity: diag.Error,
			Code:     packager.CodeDependencyMissing,
			File:     extension.MetadataFile,
			Field:    "dependencies",
			Message:  "fetching the subcharts declared with a repository: " + strings.ReplaceAll(err.Error(), "\n", " "),
		}}).Err()
	}
	s.subcharts = &fetchedSubcharts{key: key, result: res}
	return nil
}

// dependencyKey identifies what fetching the subcharts depends on:
// extension.yaml's dependencies, the Chart.lock on disk (which
// dependency.Build reads) and the entries of charts/ (a subchart vendored
// there is not fetched).
func (s *session) dependencyKey(src *source.Source, ext *extension.Extension) ([32]byte, error) {
	h := sha256.New()
	deps, err := json.Marshal(ext.Dependencies)
	if err != nil {
		return [32]byte{}, err
	}
	h.Write(deps)
	h.Write([]byte{0})
	lock, err := os.ReadFile(filepath.Join(s.root, dependency.LockFile))
	switch {
	case err == nil:
		fmt.Fprintf(h, "%d\x00", len(lock))
		h.Write(lock)
	case errors.Is(err, os.ErrNotExist):
		h.Write([]byte("no lock\x00"))
	default:
		return [32]byte{}, err
	}
	var entries []string
	for _, n := range src.Names() {
		if rest, ok := strings.CutPrefix(n, "charts/"); ok {
			entry, _, _ := strings.Cut(rest, "/")
			entries = append(entries, entry)
		}
	}
	slices.Sort(entries)
	for _, e := range slices.Compact(entries) {
		fmt.Fprintf(h, "%s\x00", e)
	}
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return key, nil
}
