// Package push publishes an extension to the KubeSphere Cloud marketplace:
// it uploads the icon and screenshots that extension.yaml names as local
// files, rewrites extension.yaml to the returned URLs (keeping comments and
// key order), leaves staticFileDirectory out of the package, re-packages,
// checks the size limit, uploads the package and submits it for review.
package push

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// Cloud is the part of the KubeSphere Cloud API that push uses.
type Cloud interface {
	SnapshotOf(ctx context.Context, name, version string) (*cloud.Snapshot, error)
	FilesDir(ctx context.Context) (string, error)
	UploadFiles(ctx context.Context, files []cloud.File) ([]string, error)
	UploadPackage(ctx context.Context, name, fileName string, data []byte) (string, error)
	Submit(ctx context.Context, snapshotID, message string) error
}

// Reporter is told about each step, for progress lines on stderr.
type Reporter interface {
	Infof(format string, args ...any)
}

// PlaceholderBase prefixes the stand-in URLs of a dry run; the server
// assigns the real ones.
const PlaceholderBase = "https://uploads.invalid/"

// Asset is a local file named by extension.yaml that push uploads.
type Asset struct {
	// Path is the file's path in the extension ("static/icon.svg").
	Path string `json:"path"`
	// Name is the file name it is uploaded as, unique within the push.
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Fields are the extension.yaml fields that name it ("icon",
	// "screenshots[1]").
	Fields []string `json:"fields"`
	// URL is where it was uploaded (a placeholder in a dry run).
	URL string `json:"url"`

	data []byte
}

// Plan is what push will do with one extension, worked out locally.
type Plan struct {
	Name    string
	Version string
	Assets  []*Asset
	// StaticDir is the staticFileDirectory left out of the package, if any.
	StaticDir string
	// Warnings are the non-fatal findings of validation.
	Warnings diag.List

	src      *source.Source
	metadata []byte
	icon     *Asset
	shots    map[int]*Asset
}

// NewPlan validates an extension, renders it as the installer would and
// finds the files to upload. A problem in the extension is returned as
// diagnostics (diag.AsErrors).
func NewPlan(src *source.Source) (*Plan, error) {
	ext, diags := packager.Validate(src)
	var static string
	if ext != nil && ext.StaticFileDirectory != "" {
		if dir, err := extension.LocalPath(ext.StaticFileDirectory); err == nil {
			static = dir
			if top, _, _ := strings.Cut(dir, "/"); top == "templates" || top == "charts" {
				line, col := ext.Position("staticFileDirectory")
				diags.Add(diag.Diagnostic{
					Severity: diag.Error, Code: extension.CodeStaticDir, File: extension.MetadataFile, Line: line, Column: col,
					Field:   "staticFileDirectory",
					Message: fmt.Sprintf("%q holds chart files; push leaves staticFileDirectory out of the package", dir),
					Hint:    "keep icons and screenshots in a directory of their own, e.g. static",
				})
			}
		}
	}
	if err := diags.Err(); err != nil {
		return nil, err
	}
	if err := packager.CheckRender(src, ext); err != nil {
		return nil, err
	}
	metadata, _ := src.Read(extension.MetadataFile)
	p := &Plan{
		Name: ext.Name, Version: ext.Version, StaticDir: static, Warnings: diags,
		src: src, metadata: metadata, shots: map[int]*Asset{},
	}
	byPath := map[string]*Asset{}
	taken := map[string]bool{}
	add := func(field, ref string) *Asset {
		if !extension.IsLocal(ref) {
			return nil
		}
		name, _ := extension.LocalPath(ref) // checked by Validate
		if a, ok := byPath[name]; ok {
			a.Fields = append(a.Fields, field)
			return a
		}
		data, _ := src.Read(name)
		a := &Asset{Path: name, Name: uniqueName(path.Base(name), taken), Size: int64(len(data)), Fields: []string{field}, data: data}
		byPath[name] = a
		p.Assets = append(p.Assets, a)
		return a
	}
	p.icon = add("icon", ext.Icon)
	for i, s := range ext.Screenshots {
		if a := add(fmt.Sprintf("screenshots[%d]", i), s); a != nil {
			p.shots[i] = a
		}
	}
	return p, nil
}

// uniqueName returns base, or base with "-2", "-3"... before its extension
// when the name is taken, and marks the result taken.
func uniqueName(base string, taken map[string]bool) string {
	name := base
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	taken[name] = true
	return name
}

// remotePath is where an asset is stored: <dir>/<name>/<version>/<file>.
func (p *Plan) remotePath(dir string, a *Asset) string {
	return strings.TrimSuffix(dir, "/") + "/" + p.Name + "/" + p.Version + "/" + a.Name
}

// Build rewrites extension.yaml with the assets' URLs, drops the static
// directory and packages the result. A package over the limit comes back
// with a *packager.TooLargeError.
func (p *Plan) Build(opts packager.Options) (*packager.Package, []byte, error) {
	edit := extension.MetadataEdit{Screenshots: map[int]string{}}
	if p.icon != nil {
		edit.Icon = p.icon.URL
	}
	for i, a := range p.shots {
		edit.Screenshots[i] = a.URL
	}
	if p.StaticDir != "" {
		edit.Remove = []string{"staticFileDirectory"}
	}
	metadata := p.metadata
	if len(p.Assets) > 0 || p.StaticDir != "" {
		var err error
		if metadata, err = extension.EditMetadata(p.metadata, edit); err != nil {
			return nil, nil, err
		}
	}
	src := source.New(p.src.Path, p.src.Kind, p.src.Files())
	src.Write(extension.MetadataFile, metadata)
	if p.StaticDir != "" {
		src.RemoveDir(p.StaticDir)
	}
	opts.Target = packager.TargetMarketplace
	pkg, err := packager.Build(src, opts)
	return pkg, metadata, err
}

// Options tune Run.
type Options struct {
	Package packager.Options
	// Submit sends the uploaded snapshot for review.
	Submit bool
	// Now is the clock for the submit message "<RFC 3339 time> submit for
	// review"; nil means time.Now.
	Now func() time.Time
}

// Result is what a push did (or, in a dry run, would do).
type Result struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Assets     []*Asset `json:"uploads"`
	StaticDir  string   `json:"staticFileDirectory,omitempty"`
	Metadata   string   `json:"extensionYAML"`
	Size       int64    `json:"size"`
	Files      int      `json:"files"`
	SnapshotID string   `json:"snapshotID,omitempty"`
	// Status is the snapshot's status after the push: draft or submitted.
	Status string `json:"status,omitempty"`
	DryRun bool   `json:"dryRun"`
	// Warnings are the non-fatal findings of validation and packaging.
	Warnings diag.List `json:"warnings"`
}

// DryRun does everything locally: the assets get placeholder URLs and the
// result shows the rewritten extension.yaml and the final size.
func (p *Plan) DryRun(opts packager.Options) (*Result, error) {
	p.placeholders()
	pkg, metadata, err := p.Build(opts)
	if err != nil {
		return nil, err
	}
	res := p.result(pkg, metadata)
	res.DryRun = true
	return res, nil
}

func (p *Plan) placeholders() {
	for _, a := range p.Assets {
		a.URL = PlaceholderBase + p.Name + "/" + p.Version + "/" + a.Name
	}
}

func (p *Plan) result(pkg *packager.Package, metadata []byte) *Result {
	// The user's files were validated by NewPlan; from the rewritten
	// package only the size warning is new.
	warnings := append(diag.List{}, p.Warnings...)
	for _, w := range pkg.Warnings {
		if w.Code == packager.CodePackageSize {
			warnings.Add(w)
		}
	}
	return &Result{
		Name: p.Name, Version: p.Version, Assets: p.Assets, StaticDir: p.StaticDir,
		Metadata: string(metadata), Size: pkg.Size(), Files: len(pkg.Entries), Warnings: warnings,
	}
}

// SubmitError is a package that was uploaded but whose submission failed.
type SubmitError struct {
	SnapshotID string
	Err        error
}

func (e *SubmitError) Error() string {
	return fmt.Sprintf("snapshot %s was uploaded but not submitted: %v", e.SnapshotID, e.Err)
}

func (e *SubmitError) Unwrap() error { return e.Err }

// PublishedError is a push of a version the marketplace has already
// approved: a published version is never replaced.
type PublishedError struct {
	Name, Version string
}

func (e *PublishedError) Error() string {
	return fmt.Sprintf("%s %s is already published; bump version in extension.yaml", e.Name, e.Version)
}

// Run pushes the extension. The size limit is checked twice before any
// upload of the package: once with placeholder URLs before anything is
// sent, and again with the real URLs. The version is looked up before the
// first upload: a published one ends the push (*PublishedError) with
// nothing uploaded.
func Run(ctx context.Context, p *Plan, c Cloud, opts Options, r Reporter) (*Result, error) {
	p.placeholders()
	if _, _, err := p.Build(opts.Package); err != nil {
		return nil, err
	}
	snap, err := c.SnapshotOf(ctx, p.Name, p.Version)
	switch {
	case cloud.IsNotFound(err): // a new extension or version
	case err != nil:
		return nil, fmt.Errorf("looking up %s %s: %w", p.Name, p.Version, err)
	case snap.Status == cloud.StatusActive:
		return nil, &PublishedError{Name: p.Name, Version: p.Version}
	}
	if len(p.Assets) > 0 {
		dir, err := c.FilesDir(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range p.Assets {
			r.Infof("Uploading %s (%s)", a.Path, strings.Join(a.Fields, ", "))
			urls, err := c.UploadFiles(ctx, []cloud.File{{Name: a.Name, Path: p.remotePath(dir, a), Data: a.data}})
			if err != nil {
				return nil, fmt.Errorf("uploading %s: %w", a.Path, err)
			}
			a.URL = urls[0]
		}
	}
	pkg, metadata, err := p.Build(opts.Package)
	if err != nil {
		return nil, err
	}
	res := p.result(pkg, metadata)
	r.Infof("Uploading %s", pkg.FileName())
	id, err := c.UploadPackage(ctx, p.Name, pkg.FileName(), pkg.Data)
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", pkg.FileName(), err)
	}
	res.SnapshotID, res.Status = id, cloud.StatusDraft
	if !opts.Submit {
		return res, nil
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	msg := now().Format(time.RFC3339) + " submit for review"
	r.Infof("Submitting snapshot %s for review", id)
	if err := c.Submit(ctx, id, msg); err != nil {
		return res, &SubmitError{SnapshotID: id, Err: err}
	}
	res.Status = cloud.StatusSubmitted
	return res, nil
}
