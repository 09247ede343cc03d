package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

// TestMain lets testscript run this test binary as the ksbuilder command.
func TestMain(m *testing.M) {
	testscript.Main(stopClusterAfter(m), map[string]func(){
		"ksbuilder": func() { os.Exit(runMain(os.Args, iostreams.System())) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script: each runs the
// real ksbuilder binary in a fresh directory with no terminal.
func TestScript(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, haveCluster := scriptKubeconfig(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		UpdateScripts:       golden.Updating(),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "home", ".config"))
			// git's identity (create's author default) comes from the
			// script alone, never from the machine.
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("CORPUS", filepath.Join(root, "testdata", "corpus"))
			env.Setenv("NO_COLOR", "1")
			setupCloud(env)
			env.Setenv("KUBECONFIG", kubeconfig)
			return setupRegistries(env)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "cluster" {
				return haveCluster, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"tgzls":     cmdTgzList,
			"cloud":     cmdCloud,
			"helmpull":  cmdHelmPull,
			"chartrepo": cmdChartRepo,
			"imgseed":   cmdImgSeed,
			"imgsame":   cmdImgSame,
			"replace":   cmdReplace,
			"kindsset":  cmdKindsSet,
			"reposync":  cmdRepoSync,
		},
	})
}

// cmdRepoSync makes a published ExtensionVersion look synced from a
// Repository, as KubeSphere's repository controller writes one
// ("reposync REPOSITORY EXTENSIONVERSION [CHARTURL]"; see
// testcontroller.SyncVersion).
func cmdRepoSync(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: reposync REPOSITORY EXTENSIONVERSION [CHARTURL]")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", ts.Getenv("KUBECONFIG"))
	ts.Check(err)
	chartURL := ""
	if len(args) == 3 {
		chartURL = args[2]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts.Check(testcontroller.SyncVersion(ctx, cfg, args[0], args[1], chartURL))
}

// cmdKindsSet waits until every JSBundle, APIService, ReverseProxy and
// ExtensionEntry of an extension has a state ("kindsset NAME"): KubeSphere
// sets it once the release is installed, after the plan says Installed.
func cmdKindsSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: kindsset NAME")
	}
	c, err := cluster.Connect(cluster.ConnectOptions{Kubeconfig: ts.Getenv("KUBECONFIG")})
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		objs, err := c.ExtensionObjects(ctx, args[0])
		ts.Check(err)
		statuses := cluster.ObjectStatuses(objs)
		set := len(statuses) > 0
		for _, o := range statuses {
			set = set && o.State != cluster.StateNone
		}
		if set {
			return
		}
		select {
		case <-ctx.Done():
			ts.Fatalf("the objects of %s never all got a state: %+v", args[0], statuses)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cmdTgzList prints the entries of a .tgz, one per line: "tgzls file.tgz".
func cmdTgzList(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tgzls ARCHIVE")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	ts.Check(err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s %o %d\n", h.Name, h.Mode, h.ModTime.Unix())
	}
}
