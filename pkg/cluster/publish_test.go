package cluster_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

func buildPackage(t *testing.T, name string) *packager.Package {
	t.Helper()
	dir := t.TempDir() + "/" + name
	if _, err := create.Create(create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: create.Frontend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestPublishTwice(t *testing.T) {
	cfg := testEnv.Require(t)
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pkg := buildPackage(t, "pubtwice")
	pub, err := cluster.NewPublication(pkg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Publish(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	pub2, _ := cluster.NewPublication(pkg, time.Now().Add(time.Hour))
	res, err = c.Publish(ctx, pub2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	_ = metav1.Now
}
