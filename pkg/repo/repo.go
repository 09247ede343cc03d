// Package repo builds the index.yaml of a Helm chart repository over a
// directory of extension packages, as KubeSphere's Repository controller
// reads it.
package repo

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// IndexFileName is the name of the index in the directory.
const IndexFileName = "index.yaml"

// Options control Index.
type Options struct {
	// Dir holds the packages (*.tgz, also one directory level down).
	Dir string
	// URL is the base URL the directory is served at. Empty leaves each
	// chart's URL relative to the index (its path in Dir), as Helm does.
	URL string
	// Merge, when set, is an existing index whose entries are kept; an
	// entry of Dir with the same name and version wins.
	Merge string
	// Stamp, when set (from SOURCE_DATE_EPOCH), is the index's generated
	// time and the created time of every package of Dir. When zero, a
	// package's created time is the newest modification time in its
	// archive (the file's own when the archive has none, as in a package
	// built without SOURCE_DATE_EPOCH), and the index's the newest created
	// time of its entries, so the same packages give the same bytes.
	Stamp time.Time
}

// Entry is one chart version of the index.
type Entry struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	URLs    []string  `json:"urls"`
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}

// Skipped is a package of Dir, or an entry of the merged index, left out
// of the index.
type Skipped struct {
	// Path is the package, or the merged index.
	Path string `json:"path"`
	// Entry names the entry of the merged index: "NAME VERSION".
	Entry  string `json:"entry,omitempty"`
	Reason string `json:"reason"`
}

// String is "PATH: reason", or "PATH: entry NAME VERSION: reason".
func (s Skipped) String() string {
	if s.Entry != "" {
		return s.Path + ": entry " + s.Entry + ": " + s.Reason
	}
	return s.Path + ": " + s.Reason
}

// Result is the written index.
type Result struct {
	// Path is the index file written.
	Path    string    `json:"path"`
	Entries []Entry   `json:"entries"`
	Skipped []Skipped `json:"skipped"`
	// Warnings are problems that did not stop the index.
	Warnings []string `json:"warnings"`
}

// Index writes Dir/index.yaml over the packages in Dir, atomically: a
// failure leaves the previous index as it was, and no temporary file. Once
// ctx is cancelled it writes nothing and returns ctx's error.
func Index(ctx context.Context, opts Options) (*Result, error) {
	if opts.URL != "" {
		if err := checkURL(opts.URL); err != nil {
			return nil, err
		}
	}
	info, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", opts.Dir)
	}
	res := &Result{Entries: []Entry{}, Skipped: []Skipped{}, Warnings: []string{}}
	index, err := indexDirectory(opts, res)
	if err != nil {
		return nil, fmt.Errorf("indexing %s: %w", opts.Dir, err)
	}
	if len(index.Entries) == 0 {
		if len(res.Skipped) > 0 {
			return nil, fmt.Errorf("%s has no chart packages: every *.tgz was skipped (%s)", opts.Dir, res.Skipped[0])
		}
		return nil, fmt.Errorf("%s has no chart packages (*.tgz): build them with \"ksbuilder package -d %s\"", opts.Dir, opts.Dir)
	}
	if opts.Merge != "" {
		old, skipped, err := loadIndexFile(opts.Merge)
		if err != nil {
			return nil, fmt.Errorf("merging %s: %w", opts.Merge, err)
		}
		res.Skipped = append(res.Skipped, skipped...)
		index.merge(old)
	}
	index.sortEntries()
	index.Generated = opts.Stamp
	if index.Generated.IsZero() {
		index.Generated = index.newestCreated()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dest := filepath.Join(opts.Dir, IndexFileName)
	if err := index.writeFile(dest); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	res.Path = dest
	for _, versions := range index.Entries {
		for _, v := range versions {
			res.Entries = append(res.Entries, Entry{Name: v.Name, Version: v.Version, URLs: v.URLs, Digest: v.Digest, Created: v.Created})
		}
	}
	sortEntries(res.Entries)
	if opts.URL == "" {
		res.Warnings = append(res.Warnings, "the chart URLs are relative to the index (no --url): Helm resolves them against the repository URL, but KubeSphere only takes the scheme and host from it, so serve the directory at the root of its host")
	}
	return res, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the repository URL %q is not an http(s) URL, e.g. https://charts.example.com", s)
	}
	return nil
}
