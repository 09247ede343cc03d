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
)

// IndexFileName is the name of the index in the directory.
const IndexFileName = "index.yaml"

// Options control Index.
type Options struct {
	// Dir holds the packages (*.tgz, also one directory level down).
	Dir string
	// URL is the base URL the directory is served at.
	URL string
	// Merge, when set, is an existing index whose entries are kept; an
	// entry of Dir with the same name and version wins.
	Merge string
}

// Entry is one chart version of the index.
type Entry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest"`
}

// Result is the written index.
type Result struct {
	// Path is the index file written.
	Path    string  `json:"path"`
	Entries []Entry `json:"entries"`
}

// Index writes Dir/index.yaml over the packages in Dir, atomically: a
// failure leaves the previous index as it was. Once ctx is cancelled it
// writes nothing and returns ctx's error.
func Index(ctx context.Context, opts Options) (*Result, error) {
	if err := checkURL(opts.URL); err != nil {
		return nil, err
	}
	info, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", opts.Dir)
	}
	index, err := indexDirectory(opts.Dir, opts.URL)
	if err != nil {
		return nil, fmt.Errorf("indexing %s: %w", opts.Dir, err)
	}
	if len(index.Entries) == 0 {
		return nil, fmt.Errorf("%s has no chart packages (*.tgz): build them with \"ksbuilder package -d %s\"", opts.Dir, opts.Dir)
	}
	if opts.Merge != "" {
		old, err := loadIndexFile(opts.Merge)
		if err != nil {
			return nil, fmt.Errorf("merging %s: %w", opts.Merge, err)
		}
		index.merge(old)
	}
	index.sortEntries()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dest := filepath.Join(opts.Dir, IndexFileName)
	if err := index.writeFile(dest); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	res := &Result{Path: dest, Entries: []Entry{}}
	for _, versions := range index.Entries {
		for _, v := range versions {
			res.Entries = append(res.Entries, Entry{Name: v.Name, Version: v.Version, URLs: v.URLs, Digest: v.Digest})
		}
	}
	sortEntries(res.Entries)
	return res, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the repository URL %q is not an http(s) URL, e.g. https://charts.example.com", s)
	}
	return nil
}
