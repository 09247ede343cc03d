package testcontroller

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
)

// RunTests is a TestMain body for a package whose tests share one control
// plane and one Controller: it starts the control plane and, when its
// binaries are installed, a Controller on it (logging to stderr when
// KSBUILDER_TEST_CONTROLLER_LOG is set); hands both to ready (the
// Controller is nil without the binaries: tests then skip through
// env.Require), runs the tests, stops both and returns the exit code.
func RunTests(m *testing.M, ready func(env *testcluster.Env, c *Controller)) int {
	env, err := testcluster.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
		}
	}()
	var controller *Controller
	if env.Available() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logf := func(string, ...any) {}
		if os.Getenv("KSBUILDER_TEST_CONTROLLER_LOG") != "" {
			logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "controller: "+format+"\n", args...) }
		}
		controller, err = Start(ctx, env.Config, Options{Log: logf})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			cancel()
			controller.Wait()
		}()
	}
	ready(env, controller)
	return m.Run()
}
