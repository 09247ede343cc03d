// Package dev is the inner loop of "ksbuilder dev": it publishes and
// installs an extension, then watches its directory and, on every saved
// change, checks, packages and publishes a development version
// (VERSION-dev.N) and upgrades the InstallPlan to it; a change of values
// only updates the plan's config. KubeSphere's progress and failures are
// reported as they happen, and it keeps watching until the context ends.
package dev

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	"k8s.io/utils/clock"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

// Defaults of Options.
const (
	// DefaultDebounce is how long the files must stay untouched before a
	// change is applied: editors save in several writes.
	DefaultDebounce = 200 * time.Millisecond
	// DefaultKeep is how many development versions stay published.
	DefaultKeep = 3
	// cleanupTimeout bounds the cleanup after the session ends when
	// Wait.Timeout is 0.
	cleanupTimeout = 10 * time.Minute
)

// Options configure a session.
type Options struct {
	// Dir is the extension directory.
	Dir string
	// Values are the values flags; the files of ValueFiles and FileValues
	// (--set-file) are watched too, and a change to one only updates the
	// config ("-" is not supported: stdin cannot be read again).
	Values values.Options
	// Frontend is the bundle file the console's tooling writes (yarn
	// build:ext NAME writes extensions/NAME/dist/index.js); "" for none.
	// When only it changes, the installed JSBundle's ConfigMap
	// (rawFrom.configMapKeyRef) gets its content by server-side apply,
	// with no new version, and the chart file the ConfigMap is rendered
	// from gets a copy, which the next version published carries.
	Frontend string
	// Clusters place a Multicluster extension's agent (see
	// cluster.InstallOptions).
	Clusters []string
	// ClusterValues are the values flags of each cluster's agent
	// (--cluster-values, --cluster-set), written as that cluster's override
	// by every installation the session makes (see
	// cluster.InstallOptions.ClusterValues); nil keeps the plan's
	// overrides. Their files are watched, and a change to one only updates
	// the plan, as a change of Values' files does.
	ClusterValues map[string]values.Options
	// Target is the cluster.
	Target cluster.Target
	// Cleanup uninstalls the extension and unpublishes its development
	// versions when the context ends.
	Cleanup bool
	// Keep is how many development versions stay published; 0 means
	// DefaultKeep. The version the InstallPlan uses is always kept.
	Keep int
	// Debounce is the quiet period before a change is applied; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Wait tunes the wait for KubeSphere after each change; its Notify is
	// replaced by Reporter.Event, and its Timeout bounds each wait.
	Wait cluster.WaitOptions
	// ModTime is the time stored in the packages' entries
	// (SOURCE_DATE_EPOCH).
	ModTime time.Time
	// Clock runs the debounce and measures the times reported; nil means
	// the real clock.
	Clock clock.Clock
	// Dependencies are the settings of the fetch of the subcharts
	// declared with a repository (Helm's repository configuration and
	// cache, the registry for oci://); the fetch is always in memory
	// (InMemory), and its progress goes to Reporter.Step.
	Dependencies dependency.Options
	// Now is recorded as the publication time of each version; nil means
	// time.Now.
	Now func() time.Time
	// Events replaces the file system watcher (tests).
	Events EventSource
	// Reporter receives what happens; it is called from more than one
	// goroutine, one call at a time per goroutine. Required.
	Reporter Reporter
}

// Reporter receives what a session does. Library code never prints; the
// CLI renders these.
type Reporter interface {
	// Step, Warn and Event report the publication, the InstallPlan write
	// and KubeSphere's progress (see cluster.Progress).
	cluster.Progress
	// Change reports a change about to be applied.
	Change(Change)
	// Problem reports a change that was not applied, and why: the
	// extension does not pass the checks (a diag.List error: see
	// diag.AsErrors), or the cluster refused it. Nothing on the cluster was
	// changed by a failed check. The session keeps watching.
	Problem(error)
	// Warnings reports the warnings of a build, when they differ from the
	// previous build's.
	Warnings(diag.List)
	// Applied reports an InstallPlan written.
	Applied(Applied)
	// BundleUpdated reports a bundle's ConfigMap updated (Options.Frontend).
	BundleUpdated(BundleUpdate)
	// Settled reports the end of KubeSphere's work on the last change:
	// plan installed (err nil), or the wait's error, such as a
	// *cluster.FailedError with its diagnosis (job logs).
	Settled(plan *kubesphere.InstallPlan, err error)
}

// Change is a change set about to be applied.
type Change struct {
	// Files are the changed files, relative to the directory (absolute for
	// values files outside it); empty for the first installation.
	Files []string
	// Clusters are the clusters whose values files (ClusterValues)
	// changed, sorted.
	Clusters []string
	// ValuesOnly is true when only the config is updated.
	ValuesOnly bool
	// Frontend is true when only the bundle's ConfigMap is updated.
	Frontend bool
}

// Applied is an InstallPlan written for a change.
type Applied struct {
	Name string
	// Version is the version the plan asks for.
	Version string
	// ValuesOnly is true when only the config changed.
	ValuesOnly bool
	// Action is what the write did to the plan.
	Action cluster.Action
	// Elapsed is ksbuilder's own time from the start of the change (after
	// the debounce) to the InstallPlan written: checks, build,
	// publication and the write.
	Elapsed time.Duration
	// Pruned lists the older development versions unpublished after the
	// write.
	Pruned []cluster.ObjectResult
}

// CleanupError is a cleanup (Options.Cleanup) that failed; Run returns
// it joined with the context's error.
type CleanupError struct{ Err error }

func (e *CleanupError) Error() string { return "cleaning up: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *CleanupError) Unwrap() error { return e.Err }

// ErrNameChanged refuses a change of the extension's name during a
// session.
var ErrNameChanged = errors.New("the extension's name changed")

// Run runs a session until ctx ends: it installs the extension, then
// applies every change. It returns ctx's error (context.Canceled after
// Ctrl-C), joined with a cleanup's error; or an error that stops the
// session before it starts (the cluster cannot be reached, the watcher
// cannot start).
func Run(ctx context.Context, opts Options) error {
	if opts.Reporter == nil {
		return errors.New("dev: no Reporter")
	}
	s, err := newSession(opts)
	if err != nil {
		return err
	}
	return s.run(ctx)
}

type session struct {
	opts   Options
	rep    Reporter
	client *cluster.Client
	root   string
	filter *filter
	clk    clock.Clock
	// watched are the values files (-f, --set-file), absolute.
	watched []string
	// frontend is Options.Frontend, absolute.
	frontend string
	// bundle is where a changed bundle file goes, once found.
	bundle *bundleTarget
	// selfWritten are the chart files the session wrote (the copies of the
	// bundle), with the hash of what it wrote: their change events are not
	// changes of the user's.
	selfWritten map[string][32]byte
	// renders are the renders checked before each install, which
	// cluster.Install then does not repeat.
	renders *cluster.RenderCache

	// State of the session, owned by the loop goroutine.
	name        string
	nextN       int
	current     string          // the development version the plan uses
	published   map[string]any  // values.yaml of the current version
	chart       *chart.Chart    // the current version's chart, as published
	fingerprint [32]byte        // sources and values flags last applied
	pendingFull bool            // a change not yet published
	known       map[string]bool // the files of the sources applied and read since
	warnings    string
	subcharts   *fetchedSubcharts // the last fetch of the repository subcharts

	failed    atomic.Bool // KubeSphere's last installation failed
	followMu  sync.Mutex
	stopWatch func()
}

func newSession(opts Options) (*session, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, f := range opts.Values.ValueFiles {
		if strings.TrimSpace(f) == "-" {
			return nil, errors.New("values from stdin (-f -) cannot be watched; put them in a file")
		}
	}
	clusterValues, clusterFiles, err := absClusterValues(opts.ClusterValues)
	if err != nil {
		return nil, err
	}
	opts.ClusterValues = clusterValues
	root, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := checkDir(opts.Dir); err != nil {
		return nil, err
	}
	var valueFiles []string
	for _, f := range opts.Values.ValueFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		valueFiles = append(valueFiles, abs)
	}
	opts.Values.ValueFiles = valueFiles
	setFiles, err := setFilePaths(opts.Values.FileValues)
	if err != nil {
		return nil, err
	}
	watched := append(slices.Clone(valueFiles), setFiles...)
	filt, err := newFilter(root, watched)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(opts.Dir, ".helmignore"), err)
	}
	for file, clusters := range clusterFiles {
		filt.clusterFiles[file] = clusters
		watched = append(watched, file)
	}
	frontend, err := frontendFile(opts.Frontend)
	if err != nil {
		return nil, err
	}
	if frontend != "" {
		filt.frontend = frontend
		watched = append(watched, frontend)
	}
	client := opts.Target.Client
	if client == nil {
		if client, err = cluster.Connect(opts.Target.Connect); err != nil {
			return nil, err
		}
	}
	// The Kubernetes version, the kubesphere-system namespace and the
	// clusters are read once, not at every change (see apply).
	client.KeepStableReads()
	return &session{opts: opts, rep: opts.Reporter, client: client, root: root, filter: filt, clk: opts.Clock, nextN: 1,
		renders: &cluster.RenderCache{Validate: validObjects}, watched: watched, frontend: frontend, selfWritten: map[string][32]byte{}}, nil
}

// checkDir refuses a PATH that is not a directory before anything else
// (the cluster connection) is tried: dev watches a directory, not a .tgz.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file or directory", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: not a directory: dev watches an extension's directory (a .tgz cannot change)", dir)
	}
	return nil
}

func (s *session) run(ctx context.Context) error {
	events := s.opts.Events
	if events == nil {
		w, err := NewFSWatcher(s.root, s.watched, s.filter.skipDir)
		if err != nil {
			return fmt.Errorf("watching %s: %w", s.opts.Dir, err)
		}
		events = w
	}
	defer events.Close()

	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	changes := make(chan change)
	batches := make(chan batch)
	go func() {
		defer close(changes)
		for p := range events.Events() {
			if c, ok := s.filter.match(p); ok {
				select {
				case changes <- c:
				case <-loopCtx.Done():
					return
				}
			}
		}
	}()
	go debounce(loopCtx, s.clk, s.opts.Debounce, changes, batches)

	if err := s.apply(ctx, nil); err != nil {
		if ctx.Err() != nil {
			s.stopFollowing()
			return errors.Join(ctx.Err(), s.cleanup(ctx))
		}
		if _, isDiag := diag.AsErrors(err); !isDiag {
			return err
		}
		s.rep.Problem(err)
	}
	for {
		select {
		case <-ctx.Done():
			s.stopFollowing()
			return errors.Join(ctx.Err(), s.cleanup(ctx))
		case err := <-events.Errors():
			s.rep.Warn(fmt.Sprintf("watching %s: %v", s.opts.Dir, err))
		case b := <-batches:
			if b.has(".helmignore") {
				b = s.reloadIgnore(events, b)
			}
			if err := s.apply(ctx, b); err != nil && ctx.Err() == nil {
				s.rep.Problem(err)
			}
		}
	}
}

// rescanner is an EventSource that can apply the ignore rules again to
// what it watches (FSWatcher).
type rescanner interface {
	Rescan() error
}

// reloadIgnore reads .helmignore again after it changed: directories it no
// longer ignores are watched, and the batch keeps only the files it does
// not ignore now.
func (s *session) reloadIgnore(events EventSource, b batch) batch {
	if err := s.filter.reload(); err != nil {
		s.rep.Problem(fmt.Errorf("%s: %w", filepath.Join(s.opts.Dir, ".helmignore"), err))
		return b
	}
	if r, ok := events.(rescanner); ok {
		if err := r.Rescan(); err != nil {
			s.rep.Warn(fmt.Sprintf("watching %s: %v", s.opts.Dir, err))
		}
	}
	return s.filter.rematch(b)
}

// absClusterValues returns the per-cluster values with their files made
// absolute, and, for each file, the clusters it gives values to. stdin
// ("-") is refused: it cannot be read again.
func absClusterValues(byCluster map[string]values.Options) (map[string]values.Options, map[string][]string, error) {
	out := make(map[string]values.Options, len(byCluster))
	files := map[string][]string{}
	for _, cl := range slices.Sorted(maps.Keys(byCluster)) {
		o := byCluster[cl]
		abs := make([]string, 0, len(o.ValueFiles))
		for _, f := range o.ValueFiles {
			if strings.TrimSpace(f) == "-" {
				return nil, nil, fmt.Errorf("values of cluster %s from stdin (--cluster-values %s=-) cannot be watched; put them in a file", cl, cl)
			}
			p, err := filepath.Abs(f)
			if err != nil {
				return nil, nil, err
			}
			abs = append(abs, p)
			if !slices.Contains(files[p], cl) {
				files[p] = append(files[p], cl)
			}
		}
		o.ValueFiles = abs
		out[cl] = o
	}
	return out, files, nil
}

// setFilePaths lists the files of --set-file flags (key=path,...),
// absolute. stdin ("-") is refused: it cannot be read again.
func setFilePaths(flags []string) ([]string, error) {
	var paths []string
	for _, v := range flags {
		var bad error
		err := strvals.ParseIntoFile(v, map[string]any{}, func(rs []rune) (any, error) {
			p := string(rs)
			if strings.TrimSpace(p) == "-" {
				bad = fmt.Errorf("--set-file %s: a file from stdin (-) cannot be watched; put it in a file", v)
				return "", bad
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", err
			}
			paths = append(paths, abs)
			return "", nil
		})
		if bad != nil {
			return nil, bad
		}
		if err != nil {
			return nil, fmt.Errorf("--set-file %s: %w", v, err)
		}
	}
	return paths, nil
}

// apply applies a change set (nil for the first installation).
func (s *session) apply(ctx context.Context, b batch) error {
	if b != nil {
		if b = s.dropSelfWritten(s.dropTransient(b)); len(b) == 0 {
			return nil
		}
	}
	start := s.clk.Now()
	if b.frontendOnly() && s.current != "" {
		s.rep.Change(Change{Files: b.names(), Frontend: true})
		return s.updateBundle(ctx, start)
	}
	if b.hasFrontend() {
		// Published with the rest: the chart's copy of the bundle first.
		if err := s.copyBundle(ctx); err != nil {
			s.rep.Warn(err.Error())
		}
	}
	valuesOnly := b.valuesOnly() && s.current != "" && !s.pendingFull
	s.rep.Change(Change{Files: b.names(), Clusters: b.clusters(), ValuesOnly: valuesOnly})
	var err error
	if valuesOnly {
		err = s.updateConfig(ctx, start)
	} else {
		// A publication reads KubeSphere's clusters again: their readiness
		// and KubeSphere's version can change during a session.
		s.client.ForgetClusters()
		err = s.publish(ctx, start)
		if err != nil {
			s.pendingFull = true
		}
	}
	if err != nil {
		// What the client kept may be why: the next change reads it again.
		s.client.ForgetStableReads()
	}
	return err
}

// dropTransient leaves out of a batch the files that came and went: they
// do not exist and were in none of the sources applied or read since,
// such as an editor's temporary file renamed over the real one.
func (s *session) dropTransient(b batch) batch {
	var out batch
	for _, c := range b {
		p := c.Name
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.root, filepath.FromSlash(p))
		}
		if _, err := os.Lstat(p); err != nil && errors.Is(err, fs.ErrNotExist) && !s.known[c.Name] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// load reads and checks the extension: extension.yaml, permissions.yaml;
// adds the subcharts declared with a repository (addSubcharts); with
// render, the templates parse and the chart renders with its default
// values.
func (s *session) load(ctx context.Context, render bool) (*source.Source, *extension.Extension, error) {
	src, err := source.LoadDir(s.root)
	if err != nil {
		return nil, nil, err
	}
	src.Path = s.opts.Dir
	if s.known == nil {
		s.known = map[string]bool{}
	}
	for _, n := range src.Names() {
		s.known[n] = true
	}
	ext, diags := packager.Validate(src)
	if err := diags.Err(); err != nil {
		return nil, nil, err
	}
	if s.name != "" && ext.Name != s.name {
		return nil, nil, fmt.Errorf("%w from %s to %s: restart \"ksbuilder dev\" to work on %s", ErrNameChanged, s.name, ext.Name, ext.Name)
	}
	if err := s.addSubcharts(ctx, src, ext); err != nil {
		return nil, nil, err
	}
	if render {
		if err := packager.CheckRender(src, ext); err != nil {
			return nil, nil, err
		}
	}
	return src, ext, nil
}

// planValues are the values an installation writes in the InstallPlan.
type planValues struct {
	// config is spec.config.
	config map[string]any
	// source names the values flag behind each value of config (those of
	// values.yaml have none).
	source manifest.ValueSource
	// clusters are the overrides, by cluster (Options.ClusterValues).
	clusters map[string]map[string]any
	// fingerprint identifies what gets installed: the sources, the values
	// flags and the per-cluster values.
	fingerprint [32]byte
}

// config is the InstallPlan's values for the extension in src: as config,
// what turns the published values.yaml into the edited one, then the
// values flags; and the per-cluster values.
func (s *session) config(src *source.Source, published map[string]any) (planValues, error) {
	flags := map[string]any{}
	var source manifest.ValueSource
	if !s.opts.Values.Empty() {
		var err error
		if flags, source, err = s.opts.Values.MergeSources(strings.NewReader("")); err != nil {
			return planValues{}, err
		}
	}
	clusters, err := values.MergeClusters(s.opts.ClusterValues, strings.NewReader(""))
	if err != nil {
		return planValues{}, err
	}
	edited := map[string]any{}
	if data, ok := src.Read(valuesFile); ok {
		v, err := chartutil.ReadValues(data)
		if err != nil {
			return planValues{}, fmt.Errorf("%s: %w", filepath.Join(s.opts.Dir, valuesFile), err)
		}
		edited = v
	}
	return planValues{config: values.MergeMaps(valuesOverlay(published, edited), flags), source: source, clusters: clusters,
		fingerprint: fingerprint(src, flags, clusters)}, nil
}

// publish checks and packages the extension as the next development
// version, publishes it and upgrades the InstallPlan to it.
func (s *session) publish(ctx context.Context, start time.Time) error {
	src, ext, err := s.load(ctx, false)
	if err != nil {
		return err
	}
	base := ext.Version
	if s.name == "" {
		if err := s.begin(ctx, ext.Name); err != nil {
			return err
		}
	}
	version := cluster.DevVersion(base, s.nextN)
	pkg, err := packager.Build(src, packager.Options{ModTime: s.opts.ModTime, Version: version})
	if err != nil {
		return err
	}
	vals, err := s.config(src, pkg.Chart.Values)
	if err != nil {
		return err
	}
	plan, err := s.plan(ctx)
	if err != nil {
		return err
	}
	err = s.checkRender(pkg.Extension, pkg.Chart, version, vals, plan, func() error {
		return packager.CheckRenderChart(src, pkg.Extension, pkg.Chart)
	})
	if err != nil {
		return err
	}
	s.reportWarnings(pkg.Warnings)
	if s.current != "" && vals.fingerprint == s.fingerprint && !s.failed.Load() {
		s.pendingFull = false
		s.rep.Step("Nothing changed in the package or the values")
		return nil
	}
	exists := plan != nil
	s.stopFollowing()
	s.nextN++
	// The chart as Install will read it back from the ConfigMap, for the
	// changes of values to come: loaded while Install waits for the API
	// server.
	var published *chart.Chart
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		if ch, err := s.client.LoadChartArchive(pkg.Data); err == nil {
			published = ch
		}
	}()
	out, err := cluster.Install(ctx, cluster.InstallRequest{
		Target:         cluster.Target{Client: s.client},
		InstallOptions: cluster.InstallOptions{Values: vals.config, ValueSource: vals.source, Clusters: s.opts.Clusters, ClusterValues: vals.clusters, Upgrade: exists, Renders: s.renders},
		Package:        pkg,
		Created:        s.opts.Now(),
		NoWait:         true,
		Progress:       s.rep,
	})
	<-loaded
	if err != nil {
		return err
	}
	s.current, s.published, s.fingerprint, s.pendingFull = version, pkg.Chart.Values, vals.fingerprint, false
	s.forgetBundleRef()
	s.chart = published // nil if it did not load: the next change of values renders the sources
	s.known = fileSet(src)
	s.written(ctx, out, Applied{Name: s.name, Version: version, Action: out.Action, Elapsed: s.clk.Since(start)})
	return nil
}

// updateConfig updates the InstallPlan's config after a change of values
// only: same version, new config.
func (s *session) updateConfig(ctx context.Context, start time.Time) error {
	src, ext, err := s.load(ctx, s.chart == nil)
	if err != nil {
		return err
	}
	vals, err := s.config(src, s.published)
	if err != nil {
		return err
	}
	if vals.fingerprint == s.fingerprint && !s.failed.Load() {
		s.rep.Step("Nothing changed in the values")
		return nil
	}
	if s.chart != nil {
		var plan *kubesphere.InstallPlan
		if ext.Mode() == extension.Multicluster { // the placement and overrides to render the agents with
			if plan, err = s.plan(ctx); err != nil {
				return err
			}
		}
		err = s.checkRender(ext, s.chart, s.current, vals, plan, func() error { return packager.CheckRender(src, ext) })
		if err != nil {
			return err
		}
	}
	s.stopFollowing()
	out, err := cluster.Install(ctx, cluster.InstallRequest{
		Target:         cluster.Target{Client: s.client},
		InstallOptions: cluster.InstallOptions{Name: s.name, Version: s.current, Values: vals.config, ValueSource: vals.source, Clusters: s.opts.Clusters, ClusterValues: vals.clusters, Upgrade: true, Renders: s.renders},
		NoWait:         true,
		Progress:       s.rep,
	})
	if err != nil {
		return err
	}
	s.fingerprint, s.known = vals.fingerprint, fileSet(src)
	s.written(ctx, out, Applied{Name: s.name, Version: s.current, ValuesOnly: true, Action: out.Action, Elapsed: s.clk.Since(start)})
	return nil
}

// checkRender renders the chart as cluster.Install's checks will, through
// the session's render cache, so that Install does not render it again.
// When it fails, diagnose (packager's checks, with the default values)
// runs to report the problem at its file and line; if those pass, the
// values are the problem, and the error says so as Install would.
func (s *session) checkRender(ext *extension.Extension, ch *chart.Chart, version string, vals planValues, plan *kubesphere.InstallPlan, diagnose func() error) error {
	text, err := cluster.ConfigText(vals.config)
	if err != nil {
		return err
	}
	spec := kubesphere.InstallPlanSpec{Extension: kubesphere.ExtensionRef{Name: ext.Name, Version: version}, Config: text}
	if ext.Mode() == extension.Multicluster {
		spec.ClusterScheduling = s.scheduling(plan)
		if err := cluster.ApplyClusterValues(&spec, vals.clusters); err != nil {
			return err
		}
	}
	err = cluster.CheckRender(ch, ext.TargetNamespace(), spec, s.renders, vals.source)
	if err == nil {
		return nil
	}
	if derr := diagnose(); derr != nil {
		return derr
	}
	return &cluster.CheckError{Name: ext.Name, Version: version, Problems: []string{err.Error()}}
}

// validObjects refuses a render with a document that is not a Kubernetes
// object, as packager's checks do.
func validObjects(r *manifest.Release) error {
	_, badTemplates := r.Objects()
	_, badCRDs := manifest.ParseObjects(r.CRDs)
	if bad := slices.Concat(badTemplates, badCRDs); len(bad) > 0 {
		return fmt.Errorf("%s: document %d is not a valid object: %v", bad[0].File, bad[0].Index+1, bad[0].Err)
	}
	return nil
}

// hostClusterName is the name KubeSphere gives the host cluster. Install
// places a new plan's agent on the host cluster; under another name,
// Install renders that agent's release itself.
const hostClusterName = "host"

// scheduling is the cluster scheduling Install will write for a
// Multicluster extension: the placement asked for, else the plan's, else
// the host cluster; with the plan's overrides.
func (s *session) scheduling(plan *kubesphere.InstallPlan) *kubesphere.ClusterScheduling {
	cs := &kubesphere.ClusterScheduling{}
	if plan != nil && plan.Spec.ClusterScheduling != nil {
		cs = plan.Spec.ClusterScheduling.DeepCopy()
	}
	switch {
	case len(s.opts.Clusters) > 0:
		cs.Placement = &kubesphere.Placement{Clusters: s.opts.Clusters}
	case cs.Placement == nil:
		cs.Placement = &kubesphere.Placement{Clusters: []string{hostClusterName}}
	}
	return cs
}

// written prunes the old development versions, reports a written plan and
// follows KubeSphere's work on it.
func (s *session) written(ctx context.Context, out *cluster.InstallOutcome, applied Applied) {
	s.failed.Store(false)
	if !applied.ValuesOnly {
		pruned, err := s.client.PruneDevVersions(ctx, s.name, s.opts.Keep)
		applied.Pruned = pruned
		if err != nil && ctx.Err() == nil {
			s.rep.Warn(fmt.Sprintf("removing old development versions: %v", err))
		}
	}
	s.rep.Applied(applied)
	// The wait starts from the plan as written: it misses no change.
	s.follow(ctx, out.Plan, out.Expect)
}

// begin starts work on an extension: the next development version follows
// the highest published one, so a restarted session never reuses one.
func (s *session) begin(ctx context.Context, name string) error {
	devs, err := s.client.DevVersions(ctx, name)
	if err != nil {
		return err
	}
	if len(devs) > 0 {
		s.nextN = devs[len(devs)-1].N + 1
	}
	s.name = name
	return nil
}

// plan returns the extension's InstallPlan; nil when there is none.
func (s *session) plan(ctx context.Context) (*kubesphere.InstallPlan, error) {
	plan, err := s.client.Plan(ctx, s.name)
	switch {
	case errors.Is(err, cluster.ErrNotInstalled):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return plan, nil
}

// follow waits, in the background, for KubeSphere to act on the plan, and
// reports the outcome. A new change stops the wait first.
func (s *session) follow(ctx context.Context, plan *kubesphere.InstallPlan, exp cluster.Expectation) {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	wait := s.opts.Wait
	wait.Notify = s.rep.Event
	go func() {
		defer close(done)
		final, err := s.client.Wait(wctx, plan, exp, wait)
		if wctx.Err() != nil {
			return // superseded by a newer change, or the session ended
		}
		if err != nil {
			s.failed.Store(true)
		}
		s.rep.Settled(final, err)
	}()
	s.followMu.Lock()
	s.stopWatch = func() { cancel(); <-done }
	s.followMu.Unlock()
}

// stopFollowing stops the wait of the previous change.
func (s *session) stopFollowing() {
	s.followMu.Lock()
	stop := s.stopWatch
	s.stopWatch = nil
	s.followMu.Unlock()
	if stop != nil {
		stop()
	}
}

// cleanup uninstalls the extension and unpublishes the development
// versions, when asked, on a context of its own: ctx has ended.
func (s *session) cleanup(ctx context.Context) error {
	switch {
	case s.name == "":
		return nil
	case !s.opts.Cleanup:
		if s.current != "" {
			s.rep.Step(fmt.Sprintf("Stopped watching; InstallPlan %s keeps asking for %s (\"ksbuilder status %s\" shows its state, \"ksbuilder uninstall %s\" removes it)", s.name, s.current, s.name, s.name))
		}
		return nil
	}
	s.rep.Step(fmt.Sprintf("Stopped watching; uninstalling %s and unpublishing its development versions", s.name))
	timeout := s.opts.Wait.Timeout
	if timeout <= 0 {
		timeout = cleanupTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	wait := s.opts.Wait
	wait.Notify = s.rep.Event
	_, err := cluster.Uninstall(cctx, cluster.UninstallRequest{
		Target:           cluster.Target{Client: s.client},
		UninstallOptions: cluster.UninstallOptions{Name: s.name},
		Wait:             wait,
		Progress:         s.rep,
	})
	if err != nil && !errors.Is(err, cluster.ErrNotInstalled) {
		return &CleanupError{Err: err}
	}
	results, err := s.client.RemoveDevVersions(cctx, s.name)
	for _, r := range results {
		s.rep.Step(r.String())
	}
	if err != nil {
		return &CleanupError{Err: err}
	}
	return nil
}

// reportWarnings reports a build's warnings when they changed.
func (s *session) reportWarnings(list diag.List) {
	var b strings.Builder
	for _, d := range list {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	if b.String() != s.warnings {
		s.warnings = b.String()
		if len(list) > 0 {
			s.rep.Warnings(list)
		}
	}
}

// fingerprint identifies the sources, the values flags and the
// per-cluster values applied, to skip a change that changes nothing (a
// file saved unchanged, an edit undone).
func fingerprint(src *source.Source, flags map[string]any, clusters map[string]map[string]any) [32]byte {
	h := sha256.New()
	for _, f := range src.Files() {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	cfg, _ := json.Marshal(flags) // maps marshal with sorted keys
	h.Write(cfg)
	h.Write([]byte{0})
	cfg, _ = json.Marshal(clusters)
	h.Write(cfg)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// fileSet lists the files of a source.
func fileSet(src *source.Source) map[string]bool {
	out := map[string]bool{}
	for _, n := range src.Names() {
		out[n] = true
	}
	return out
}
