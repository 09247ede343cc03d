package cluster_test

import (
	"os"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
)

var (
	// testEnv is the control plane shared by this package's tests.
	testEnv *testcluster.Env
	// controller imitates KubeSphere's InstallPlan controller on testEnv.
	controller *testcontroller.Controller
)

// Behaviours the tests give the controller for some extensions.
var (
	testcontrollerFailUninstall = testcontroller.Behaviour{FailUninstall: true}
	testcontrollerStall         = testcontroller.Behaviour{StallInPreparing: true}
	testcontrollerSkew          = testcontroller.Behaviour{ExecutorClockOffset: -10 * time.Minute}
)

func TestMain(m *testing.M) {
	os.Exit(testcontroller.RunTests(m, func(env *testcluster.Env, c *testcontroller.Controller) {
		testEnv, controller = env, c
	}))
}
