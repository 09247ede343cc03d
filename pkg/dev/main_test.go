package dev_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
)

var (
	// testEnv is the control plane shared by this package's tests.
	testEnv *testcluster.Env
	// controller imitates KubeSphere's InstallPlan controller on testEnv.
	controller *testcontroller.Controller
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	testEnv, err = testcluster.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
		}
	}()
	if testEnv.Available() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logf := func(string, ...any) {}
		if os.Getenv("KSBUILDER_TEST_CONTROLLER_LOG") != "" {
			logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "controller: "+format+"\n", args...) }
		}
		controller, err = testcontroller.Start(ctx, testEnv.Config, testcontroller.Options{Log: logf})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			cancel()
			controller.Wait()
		}()
	}
	return m.Run()
}
