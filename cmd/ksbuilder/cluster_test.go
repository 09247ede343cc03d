package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
)

// The control plane and test controller shared by this package's tests,
// started by the first test that needs them and stopped after all tests.
var shared struct {
	once       sync.Once
	env        *testcluster.Env
	controller *testcontroller.Controller
	kubeconfig string
	dir        string
	err        error
	stop       context.CancelFunc
}

// testCluster starts the shared cluster. It returns the path of an
// administrator kubeconfig, or "" when no control plane is installed (the
// error is set only for a real failure, such as missing binaries under
// CI=true).
func testCluster() (string, error) {
	shared.once.Do(func() {
		shared.env, shared.err = testcluster.Start()
		if shared.err != nil || !shared.env.Available() {
			return
		}
		if shared.dir, shared.err = os.MkdirTemp("", "ksbuilder-cluster-"); shared.err != nil {
			return
		}
		if shared.kubeconfig, shared.err = shared.env.WriteKubeconfig(shared.dir); shared.err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		shared.stop = cancel
		shared.controller, shared.err = testcontroller.Start(ctx, shared.env.Config, testcontroller.Options{})
	})
	return shared.kubeconfig, shared.err
}

// requireCluster is testCluster for a Go test: it fails on an error and
// skips without a control plane.
func requireCluster(t *testing.T) string {
	t.Helper()
	kubeconfig, err := testCluster()
	if err != nil {
		t.Fatal(err)
	}
	if kubeconfig == "" {
		shared.env.Require(t) // skips, saying why
	}
	return kubeconfig
}

// stopClusterAfter wraps the tests so the shared cluster stops after them.
func stopClusterAfter(m *testing.M) clusterTests { return clusterTests{m} }

type clusterTests struct{ m *testing.M }

func (c clusterTests) Run() int {
	code := c.m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	if shared.controller != nil {
		shared.controller.Wait()
	}
	if err := shared.env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return code
}

// scriptKubeconfig returns the KUBECONFIG for the testscript scripts: the
// shared cluster's, or a path that does not exist when there is none (so
// no script ever reaches a developer's own cluster). The scripts that need
// a cluster start with "[!cluster] skip".
func scriptKubeconfig(t *testing.T) (string, bool) {
	kubeconfig, err := testCluster()
	if err != nil {
		t.Fatal(err)
	}
	if kubeconfig == "" {
		return filepath.Join(t.TempDir(), "no-cluster", "kubeconfig"), false
	}
	return kubeconfig, true
}
