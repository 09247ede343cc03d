package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/config"
)

// The index is written here rather than with helm.sh/helm/v3/pkg/repo:
// that package links Helm's downloaders and through them kubectl,
// kustomize and every typed Kubernetes client, whose initialisation every
// ksbuilder command would pay at start-up. The format is Helm's.

// indexFile is a Helm repository's index.yaml.
type indexFile struct {
	ServerInfo  map[string]any             `json:"serverInfo,omitempty"`
	APIVersion  string                     `json:"apiVersion"`
	Generated   time.Time                  `json:"generated"`
	Entries     map[string][]*chartVersion `json:"entries"`
	PublicKeys  []string                   `json:"publicKeys,omitempty"`
	Annotations map[string]string          `json:"annotations,omitempty"`
}

// chartVersion is one package of the index: the chart's metadata and
// where to download it.
type chartVersion struct {
	*chart.Metadata
	URLs    []string  `json:"urls"`
	Created time.Time `json:"created,omitempty"`
	Removed bool      `json:"removed,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	// Fields of older indexes, kept when an index is merged.
	Checksum      string `json:"checksum,omitempty"`
	Engine        string `json:"engine,omitempty"`
	TillerVersion string `json:"tillerVersion,omitempty"`
	URL           string `json:"url,omitempty"`
}

// indexDirectory indexes the chart packages (*.tgz) of dir and of its
// subdirectories one level down, served under baseURL. Files that are not
// charts are skipped; a chart whose metadata is invalid is an error.
func indexDirectory(dir, baseURL string) (*indexFile, error) {
	top, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return nil, err
	}
	nested, err := filepath.Glob(filepath.Join(dir, "*", "*.tgz"))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	index := &indexFile{APIVersion: "v1", Generated: now, Entries: map[string][]*chartVersion{}}
	for _, archive := range append(top, nested...) {
		rel, err := filepath.Rel(dir, archive)
		if err != nil {
			return nil, err
		}
		c, err := loader.Load(archive)
		if err != nil {
			continue // not a chart
		}
		md := c.Metadata
		if md.APIVersion == "" {
			md.APIVersion = chart.APIVersionV1
		}
		if err := md.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		digest, err := fileDigest(archive)
		if err != nil {
			return nil, err
		}
		u, err := joinURL(baseURL, filepath.ToSlash(rel))
		if err != nil {
			return nil, err
		}
		index.Entries[md.Name] = append(index.Entries[md.Name], &chartVersion{Metadata: md, URLs: []string{u}, Digest: digest, Created: now})
	}
	return index, nil
}

// loadIndexFile reads an index.yaml (or its JSON form), leaving out the
// entries Helm would skip: empty ones and those with invalid metadata.
func loadIndexFile(name string) (*indexFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty", name)
	}
	index := &indexFile{}
	if json.Valid(data) {
		err = json.Unmarshal(data, index)
	} else {
		err = yaml.UnmarshalStrict(data, index)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if index.APIVersion == "" {
		return nil, fmt.Errorf("%s: no apiVersion", name)
	}
	for chartName, versions := range index.Entries {
		index.Entries[chartName] = slices.DeleteFunc(versions, func(v *chartVersion) bool {
			if v == nil {
				return true
			}
			if v.Metadata == nil {
				v.Metadata = &chart.Metadata{}
			}
			if v.APIVersion == "" {
				v.APIVersion = chart.APIVersionV1
			}
			return skippedEntry(v.Validate())
		})
	}
	return index, nil
}

// skippedEntry reports whether an entry failing validation with err is
// left out; Helm keeps entries whose only problem is duplicate dependency
// names (some repositories strip the aliases).
func skippedEntry(err error) bool {
	var verr chart.ValidationError
	if err == nil || (errors.As(err, &verr) && strings.HasPrefix(verr.Error(), "validation: more than one dependency with name or alias")) {
		return false
	}
	return true
}

// merge adds the entries of old that index does not have.
func (index *indexFile) merge(old *indexFile) {
	for _, versions := range old.Entries {
		for _, v := range versions {
			if !index.has(v.Name, v.Version) {
				index.Entries[v.Name] = append(index.Entries[v.Name], v)
			}
		}
	}
}

// has reports whether the index holds the version of a chart, the same
// string or a semantic version that the string, as a constraint, allows.
func (index *indexFile) has(name, version string) bool {
	versions := index.Entries[name]
	for _, v := range versions {
		if v.Version == version {
			return true
		}
	}
	constraint, err := semver.NewConstraint(version)
	if err != nil {
		return false
	}
	for _, v := range versions {
		if sv, err := semver.NewVersion(v.Version); err == nil && constraint.Check(sv) {
			return true
		}
	}
	return false
}

// sortEntries orders each chart's versions newest first; versions that are
// not semantic versions go last.
func (index *indexFile) sortEntries() {
	for _, versions := range index.Entries {
		slices.SortStableFunc(versions, func(a, b *chartVersion) int {
			va, errA := semver.NewVersion(a.Version)
			vb, errB := semver.NewVersion(b.Version)
			switch {
			case errA != nil && errB != nil:
				return 0
			case errA != nil:
				return 1
			case errB != nil:
				return -1
			}
			return vb.Compare(va)
		})
	}
}

// writeFile writes the index as YAML, atomically.
func (index *indexFile) writeFile(name string) error {
	data, err := yaml.Marshal(index)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(name, data, 0o644)
}

// joinURL appends a slash-separated relative path to a base URL's path.
func joinURL(base, rel string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = path.Join(u.Path, rel)
	return u.String(), nil
}

// fileDigest is the hex SHA-256 of a file, as Helm's index records it.
func fileDigest(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
