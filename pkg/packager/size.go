package packager

import (
	"fmt"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// Target is where a package goes, which decides the size limit it meets.
type Target int

const (
	// TargetCluster is a package published to a cluster (package, validate,
	// lint, publish, install): KubeSphere stores it in a ConfigMap, which
	// holds at most 1 MiB, staticFileDirectory included.
	TargetCluster Target = iota
	// TargetMarketplace is the package "ksbuilder push" uploads to
	// KubeSphere Cloud, with staticFileDirectory left out.
	TargetMarketplace
)

// limitName names the limit a target meets, for messages.
func (t Target) limitName() string {
	if t == TargetMarketplace {
		return "limit of a KubeSphere Cloud package"
	}
	return "limit of the ConfigMap a published chart is stored in"
}

// assetFields maps the archive entries that extension.yaml names as icon or
// screenshots to those fields ("icon", "screenshots[0]").
func (p *Package) assetFields() map[string][]string {
	out := map[string][]string{}
	if p.Extension == nil || p.Chart == nil || p.Chart.Metadata == nil {
		return out
	}
	add := func(field, ref string) {
		if !extension.IsLocal(ref) {
			return
		}
		if name, err := extension.LocalPath(ref); err == nil {
			entry := p.Chart.Metadata.Name + "/" + name
			out[entry] = append(out[entry], field)
		}
	}
	add("icon", p.Extension.Icon)
	for i, s := range p.Extension.Screenshots {
		add(fmt.Sprintf("screenshots[%d]", i), s)
	}
	return out
}

// sizeAdvice is the one hint given about a package's size: which files to
// list in .helmignore (never the icon or a screenshot, which the icon and
// screenshot checks need), and what to do about large icons and
// screenshots.
func (p *Package) sizeAdvice(target Target) string {
	var ignorable, assets []string
	root := ""
	if p.Chart != nil && p.Chart.Metadata != nil {
		root = p.Chart.Metadata.Name + "/"
	}
	for _, e := range p.Largest(3) {
		switch strings.TrimPrefix(e.Name, root) {
		case "Chart.yaml", extension.MetadataFile, extension.PermissionsFile, "values.yaml":
			continue // needed by every package
		}
		if e.CompressedSize*10 < p.Size() {
			continue // too small to matter
		}
		if len(e.NamedBy) > 0 {
			assets = append(assets, fmt.Sprintf("%s, named by %s in extension.yaml", e.Name, strings.Join(e.NamedBy, " and ")))
		} else {
			ignorable = append(ignorable, e.Name)
		}
	}
	var parts []string
	if len(ignorable) > 0 {
		parts = append(parts, fmt.Sprintf("list files the chart does not need in .helmignore, such as %s", strings.Join(ignorable, ", ")))
	}
	if len(assets) > 0 {
		advice := fmt.Sprintf("keep %s, but make it smaller or give its URL instead", strings.Join(assets, "; keep "))
		if target == TargetCluster {
			advice += "; ksbuilder push leaves staticFileDirectory out of the marketplace package, but a cluster package carries it"
		}
		parts = append(parts, advice)
	}
	if len(parts) == 0 {
		return "list files the chart does not need in .helmignore"
	}
	return strings.Join(parts, "; ")
}

// TooLargeError is returned when the package exceeds the size limit.
type TooLargeError struct {
	Size, Limit int64
	// Target is where the package was going.
	Target Target
	pkg    *Package
}

// Error names the sizes and the limit; Largest lists the files to look at
// and Hint says what to do.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %s, over the %s %s (%s too large)",
		e.pkg.FileName(), units.FormatBytes(e.Size), units.FormatBytes(e.Limit), e.Target.limitName(), units.FormatBytes(e.Size-e.Limit))
}

// Largest lists the biggest entries by compressed size.
func (e *TooLargeError) Largest(n int) []EntrySize { return e.pkg.Largest(n) }

// Hint says which files to leave out or shrink.
func (e *TooLargeError) Hint() string { return e.pkg.sizeAdvice(e.Target) }
