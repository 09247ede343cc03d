package cluster_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/testutil/testcluster"
)

// testEnv is the control plane shared by this package's tests.
var testEnv *testcluster.Env

func TestMain(m *testing.M) {
	var err error
	testEnv, err = testcluster.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := testEnv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	os.Exit(code)
}
