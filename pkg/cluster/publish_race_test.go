package cluster_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// versionOf returns a copy of a package as another extension name and
// version, described as "version VERSION".
func versionOf(pkg *packager.Package, name, version string) *packager.Package {
	ext := *pkg.Extension
	ext.Name, ext.Version = name, version
	ext.Description = extension.Locales{"en": "version " + version}
	copied := *pkg
	copied.Extension = &ext
	return &copied
}

// Concurrent publishes of several versions, each by its own client, leave
// the Extension describing the newest version, in every round.
func TestConcurrentPublishDescribesTheNewestVersion(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	base := build(t, scaffold(t, "race", create.Frontend))
	versions := []string{"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0"}
	const rounds = 8
	for round := range rounds {
		name := fmt.Sprintf("race-%d", round)
		start := make(chan struct{})
		errs := make([]error, len(versions))
		var wg sync.WaitGroup
		for i, version := range versions {
			pub, err := cluster.NewPublication(versionOf(base, name, version), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = c.Publish(ctx, pub)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: publishing %s: %v", round, versions[i], err)
			}
		}
		ext := &kubesphere.Extension{}
		if err := getObject(t, kubesphere.ResourceExtensions, name, ext); err != nil {
			t.Fatal(err)
		}
		if got, want := ext.Spec.Description["en"], "version "+versions[len(versions)-1]; got != want {
			t.Errorf("round %d: the Extension describes %q, want %q", round, got, want)
		}
	}
}
