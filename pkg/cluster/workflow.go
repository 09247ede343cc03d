package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// This file holds the workflows of the cluster commands: each command of
// the CLI makes one call here and renders the result. What happens on the
// way is reported through a Progress; nothing is printed.

// Progress receives what a workflow does while it runs.
type Progress interface {
	// Step reports a step done, e.g. "InstallPlan hello created".
	Step(msg string)
	// Warn reports a problem that does not stop the workflow.
	Warn(msg string)
	// Event reports a change seen while waiting for KubeSphere.
	Event(Event)
}

// nopProgress discards everything.
type nopProgress struct{}

func (nopProgress) Step(string) {}
func (nopProgress) Warn(string) {}
func (nopProgress) Event(Event) {}

// Target says which cluster a workflow works on: Client when set, else
// the one Connect selects.
type Target struct {
	Connect ConnectOptions
	// Client, when set, is used instead of connecting.
	Client *Client
}

func (t Target) client() (*Client, error) {
	if t.Client != nil {
		return t.Client, nil
	}
	return Connect(t.Connect)
}

func progressOrNop(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
}

// String is the line kubectl would print for the object:
// "Kind [namespace/]name action[ (reason)][ (dry run)]".
func (r ObjectResult) String() string {
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + r.Name
	}
	line := fmt.Sprintf("%s %s %s", r.Kind, name, r.Action)
	if r.Reason != "" {
		line += " (" + r.Reason + ")"
	}
	if r.DryRun {
		line += " (dry run)"
	}
	return line
}

// PublishRequest is "ksbuilder publish".
type PublishRequest struct {
	Target
	// Package is the built package, as "ksbuilder package" builds it.
	Package *packager.Package
	// ChartURL, when set, is the oci:// reference the package was pulled
	// from: the ExtensionVersion points at it and no ConfigMap is written.
	ChartURL string
	// Created is recorded as the publication time of a new version.
	Created time.Time
	// DryRun builds the objects and contacts no cluster.
	DryRun bool
}

// PublishOutcome is what Publish did, or would do.
type PublishOutcome struct {
	// Objects are the objects written (or, in a dry run, to be written), in
	// order.
	Objects []runtime.Object
	// Result is what the writes did; nil in a dry run.
	Result *PublishResult
	// Deletes lists, in a dry run, what a real run also deletes if it
	// exists: the chart ConfigMap publish wrote for the version before it
	// moved to an OCI registry.
	Deletes []ObjectResult
}

// Publish publishes a package: the chart ConfigMap, the ExtensionVersion
// and the Extension (see Client.Publish).
func Publish(ctx context.Context, req PublishRequest) (*PublishOutcome, error) {
	var pub *Publication
	if req.ChartURL != "" {
		pub = NewOCIPublication(req.Package, req.ChartURL, req.Created)
	} else {
		var err error
		if pub, err = NewPublication(req.Package, req.Created); err != nil {
			return nil, err
		}
	}
	out := &PublishOutcome{Objects: pub.Objects()}
	if req.DryRun {
		if pub.ConfigMap == nil {
			name, version := pub.Extension.Name, pub.Version.Spec.Version
			out.Deletes = append(out.Deletes, ObjectResult{Kind: "ConfigMap", Namespace: kubesphere.SystemNamespace,
				Name: kubesphere.ChartConfigMapName(name, version), Action: Deleted, DryRun: true,
				Reason: fmt.Sprintf("if publish wrote it for an earlier publication of %s %s: the chart is now in %s", name, version, req.ChartURL)})
		}
		return out, nil
	}
	c, err := req.client()
	if err != nil {
		return nil, err
	}
	out.Result, err = c.Publish(ctx, pub)
	return out, err
}

// VersionMismatchError is a version asked for that is not the package's.
type VersionMismatchError struct {
	Requested, Name, Version string
}

func (e *VersionMismatchError) Error() string {
	return fmt.Sprintf("version %s was asked for, but the package is %s %s", e.Requested, e.Name, e.Version)
}

// ErrVersionRequired is returned when a published extension is to be
// installed without a version: the version is always exact.
var ErrVersionRequired = errors.New("the version to install is required for a published extension")

// InstallRequest is "ksbuilder install" and "ksbuilder upgrade".
type InstallRequest struct {
	Target
	// InstallOptions say what to install. Publication is set from Package.
	InstallOptions
	// Package, when set, is published after the checks pass ("install
	// PATH"); Version, if set, must be its version.
	Package *packager.Package
	// Created is recorded as the publication time of a new version.
	Created time.Time
	// NoWait returns once the InstallPlan is written.
	NoWait bool
	// Offline, with DryRun, contacts no cluster (OfflineInstall).
	Offline bool
	// Wait tunes the wait; its Notify is replaced by Progress.Event.
	Wait     WaitOptions
	Progress Progress
}

// InstallOutcome is what Install did.
type InstallOutcome struct {
	*InstallResult
	// Name is the extension's name.
	Name string
	// Final is the plan once installed; nil without waiting.
	Final *kubesphere.InstallPlan
}

// Install checks, publishes (given a package), writes the InstallPlan and
// waits until KubeSphere has installed every release. A wait that ends
// badly returns the wait's error (*FailedError, *TimeoutError, ...) with
// the outcome so far.
func Install(ctx context.Context, req InstallRequest) (*InstallOutcome, error) {
	p := progressOrNop(req.Progress)
	opts := req.InstallOptions
	if req.Package != nil {
		pub, err := NewPublication(req.Package, req.Created)
		if err != nil {
			return nil, err
		}
		name, version := pub.Extension.Name, pub.Version.Spec.Version
		if opts.Version != "" && opts.Version != version {
			return nil, &VersionMismatchError{Requested: opts.Version, Name: name, Version: version}
		}
		if len(opts.Clusters) > 0 && pub.Version.Mode() != kubesphere.Multicluster {
			return nil, &NotMulticlusterError{Name: name, Version: version, Mode: string(pub.Version.Mode())}
		}
		opts.Publication, opts.Name, opts.Version = pub, name, version
	} else if opts.Version == "" {
		return nil, ErrVersionRequired
	}
	if req.Offline && opts.DryRun {
		res, err := OfflineInstall(opts)
		if err != nil {
			return nil, err
		}
		for _, w := range res.Warnings {
			p.Warn(w)
		}
		return &InstallOutcome{InstallResult: res, Name: opts.Name}, nil
	}
	c, err := req.client()
	if err != nil {
		return nil, err
	}
	res, err := c.Install(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &InstallOutcome{InstallResult: res, Name: opts.Name}
	if res.ServedBy != nil {
		p.Step(fmt.Sprintf("%s %s is served by %s", opts.Name, opts.Version, res.ServedBy))
	}
	if res.Publish != nil {
		for _, r := range res.Publish.Objects {
			p.Step(r.String())
		}
	}
	for _, w := range res.Warnings {
		p.Warn(w)
	}
	if res.Retry != "" {
		p.Step(res.Retry)
	}
	if opts.DryRun {
		return out, nil
	}
	what := fmt.Sprintf("InstallPlan %s %s", opts.Name, res.Action)
	if res.PreviousVersion != "" && res.PreviousVersion != res.Plan.Spec.Extension.Version {
		what += fmt.Sprintf(" (version %s -> %s)", res.PreviousVersion, res.Plan.Spec.Extension.Version)
	}
	p.Step(what)
	if req.NoWait {
		return out, nil
	}
	wait := req.Wait
	wait.Notify = p.Event
	out.Final, err = c.Wait(ctx, res.Plan, res.Expect, wait)
	return out, err
}

// UninstallRequest is "ksbuilder uninstall".
type UninstallRequest struct {
	Target
	UninstallOptions
	// Unpublish deletes the published versions and the Extension once the
	// plan is gone.
	Unpublish bool
	// NoWait returns once the deletion is requested (not with Unpublish).
	NoWait   bool
	Wait     WaitOptions
	Progress Progress
}

// UninstallOutcome is what Uninstall did.
type UninstallOutcome struct {
	// Uninstalled is true when the InstallPlan is gone; false when there
	// was none (with Unpublish), in a dry run, or without waiting.
	Uninstalled bool
	// Deleting is true when the deletion was requested but not waited for.
	Deleting bool
	// Objects are what was (or in a dry run would be) deleted besides the
	// plan's releases: in a dry run the InstallPlan first, then what
	// unpublishing deleted.
	Objects []ObjectResult
}

// ErrUnpublishNeedsWait refuses to unpublish without waiting for the
// InstallPlan to be gone.
var ErrUnpublishNeedsWait = errors.New("unpublishing needs to wait until the InstallPlan is gone")

// Uninstall deletes an extension's InstallPlan, waits until it is gone,
// and unpublishes the extension when asked.
func Uninstall(ctx context.Context, req UninstallRequest) (*UninstallOutcome, error) {
	if req.Unpublish && req.NoWait && !req.DryRun {
		return nil, ErrUnpublishNeedsWait
	}
	p := progressOrNop(req.Progress)
	c, err := req.client()
	if err != nil {
		return nil, err
	}
	out := &UninstallOutcome{}
	if req.Force && !req.DryRun {
		msg, err := c.RemoveStuckPlan(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			p.Warn(msg)
			p.Step(fmt.Sprintf("InstallPlan %s deleted", req.Name))
			out.Uninstalled = true
			return out, req.unpublish(ctx, c, out)
		}
	}
	plan, err := c.Uninstall(ctx, req.UninstallOptions)
	switch {
	case errors.Is(err, ErrNotInstalled) && req.Unpublish:
		p.Step(fmt.Sprintf("%s is not installed", req.Name))
	case err != nil:
		return nil, err
	case req.DryRun:
		out.Objects = append(out.Objects, planDeleted(req.Name))
	case plan == nil:
		p.Step(fmt.Sprintf("InstallPlan %s deleted", req.Name))
		out.Uninstalled = true
	case req.NoWait:
		out.Deleting = true
		return out, nil
	default:
		p.Step(fmt.Sprintf("InstallPlan %s is being deleted", req.Name))
		wait := req.Wait
		wait.Notify = p.Event
		if err := c.WaitDeleted(ctx, plan, wait); err != nil {
			return out, err
		}
		out.Uninstalled = true
	}
	return out, req.unpublish(ctx, c, out)
}

// unpublish unpublishes the extension once its plan is gone, when asked.
func (req UninstallRequest) unpublish(ctx context.Context, c *Client, out *UninstallOutcome) error {
	if !req.Unpublish {
		return nil
	}
	results, err := c.Unpublish(ctx, UnpublishOptions{Name: req.Name, DryRun: req.DryRun, PlanRemoved: req.DryRun})
	out.Objects = append(out.Objects, results...)
	return err
}

// planDeleted is the dry-run result of deleting an InstallPlan.
func planDeleted(name string) ObjectResult {
	return ObjectResult{Kind: "InstallPlan", Name: name, Action: Deleted, DryRun: true}
}

// UnpublishRequest is "ksbuilder unpublish".
type UnpublishRequest struct {
	Target
	UnpublishOptions
	// Uninstall uninstalls the extension first, and waits, when its
	// InstallPlan uses a version to delete.
	Uninstall bool
	Wait      WaitOptions
	Progress  Progress
}

// Unpublish deletes published versions of an extension (see
// Client.Unpublish), uninstalling it first when asked. The results list
// what was deleted so far, also with an error.
func Unpublish(ctx context.Context, req UnpublishRequest) ([]ObjectResult, error) {
	p := progressOrNop(req.Progress)
	c, err := req.client()
	if err != nil {
		return nil, err
	}
	results, err := c.Unpublish(ctx, req.UnpublishOptions)
	var inUse *PlanExistsError
	if !errors.As(err, &inUse) || !req.Uninstall {
		return results, err
	}
	opts := req.UnpublishOptions
	if req.DryRun {
		if _, err := c.Uninstall(ctx, UninstallOptions{Name: req.Name, DryRun: true}); err != nil {
			return nil, err
		}
		opts.PlanRemoved = true
		results, err = c.Unpublish(ctx, opts)
		return append([]ObjectResult{planDeleted(req.Name)}, results...), err
	}
	p.Step(fmt.Sprintf("Uninstalling %s %s first", req.Name, inUse.Version))
	plan, err := c.Uninstall(ctx, UninstallOptions{Name: req.Name})
	if err != nil {
		return nil, err
	}
	if plan != nil {
		wait := req.Wait
		wait.Notify = p.Event
		if err := c.WaitDeleted(ctx, plan, wait); err != nil {
			return nil, err
		}
	}
	return c.Unpublish(ctx, opts)
}

// StatusRequest is "ksbuilder status".
type StatusRequest struct {
	Target
	Name string
	// Watch follows the plan until every release is Installed, one fails,
	// or the plan is gone.
	Watch    bool
	Wait     WaitOptions
	Progress Progress
}

// StatusOutcome is an extension's installation state.
type StatusOutcome struct {
	// Plan is the InstallPlan, after watching when asked; nil once a
	// watched plan is gone.
	Plan *kubesphere.InstallPlan
	// Uninstalled is true when a watched plan that was being deleted is
	// gone.
	Uninstalled bool
	// ImagePull lists the executor images that cannot be pulled.
	ImagePull []ImagePullError
	// Objects are the extension's JSBundles, APIServices, ReverseProxies
	// and ExtensionEntries (nil when they cannot be listed: a warning says
	// why).
	Objects *extensions.Objects
}

// Status reads an extension's InstallPlan and, when asked, follows it until
// it settles: installed, failed, or (for a plan being deleted) gone.
func Status(ctx context.Context, req StatusRequest) (*StatusOutcome, error) {
	c, err := req.client()
	if err != nil {
		return nil, err
	}
	plan, err := c.Plan(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	out := &StatusOutcome{Plan: plan}
	if !req.Watch {
		out.ImagePull = c.ImagePullErrors(ctx, plan)
		out.Objects = c.statusObjects(ctx, req.Name, req.Progress)
		return out, nil
	}
	wait := req.Wait
	wait.Notify = progressOrNop(req.Progress).Event
	if plan.DeletionTimestamp != nil {
		if err := c.WaitDeleted(ctx, plan, wait); err != nil {
			return out, err
		}
		return &StatusOutcome{Uninstalled: true}, nil
	}
	out.Plan, err = c.Wait(ctx, plan, Expectation{}, wait)
	if err == nil {
		out.ImagePull = c.ImagePullErrors(ctx, out.Plan)
		out.Objects = c.statusObjects(ctx, req.Name, req.Progress)
	}
	return out, err
}

// statusObjects lists an extension's objects of KubeSphere's extension
// kinds for Status; a failed list is a warning.
func (c *Client) statusObjects(ctx context.Context, name string, p Progress) *extensions.Objects {
	objs, err := c.ExtensionObjects(ctx, name)
	if err != nil {
		hint := ""
		var forbidden *KindsForbiddenError
		if errors.As(err, &forbidden) {
			hint = " (\"ksbuilder doctor\" lists the permissions ksbuilder needs)"
		}
		progressOrNop(p).Warn(fmt.Sprintf("cannot show the extension's JSBundles, APIServices, ReverseProxies and ExtensionEntries: %v%s", err, hint))
		return nil
	}
	return objs
}
