package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
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
			"tgzls":    cmdTgzList,
			"cloud":    cmdCloud,
			"helmpull": cmdHelmPull,
			"imgseed":  cmdImgSeed,
			"imgsame":  cmdImgSame,
			"replace":  cmdReplace,
		},
	})
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
