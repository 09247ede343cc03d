package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ksbuilder/ksbuilder/internal/cloudtest"
)

type cloudKey struct{}

// setupCloud starts a fake KubeSphere Cloud for one script and points
// ksbuilder at it: KSBUILDER_SERVER, a config directory under $WORK, the
// file token store (no keyring in tests), and $CLOUD_TOKEN, a valid token.
func setupCloud(env *testscript.Env) {
	srv := cloudtest.New()
	env.Defer(srv.Close)
	env.Values[cloudKey{}] = srv
	env.Setenv("KSBUILDER_SERVER", srv.URL)
	env.Setenv("KSBUILDER_CONFIG_DIR", filepath.Join(env.WorkDir, "config"))
	env.Setenv("KSBUILDER_KEYRING", "file")
	env.Setenv("CLOUD_TOKEN", cloudtest.Token)
	env.Setenv("TZ", "UTC")
}

// cmdCloud drives the script's fake KubeSphere Cloud:
//
//	cloud fault ROUTE STATUS [BODY] [TIMES]   answer ROUTE with STATUS and BODY
//	cloud requests                            print "METHOD PATH STATUS" per request
//	cloud count ROUTE N                       fail unless ROUTE got N requests
//	cloud approve NAME VERSION                approve a submitted snapshot
//	cloud package NAME VERSION FILE           save an uploaded package to FILE
//	cloud files                               print the uploaded files' paths
//	cloud verify                              fail on any protocol violation
func cmdCloud(ts *testscript.TestScript, neg bool, args []string) {
	srv, _ := ts.Value(cloudKey{}).(*cloudtest.Server)
	if srv == nil || len(args) == 0 {
		ts.Fatalf("usage: cloud fault|delay|requests|count|approve|package|files|verify ...")
	}
	if neg {
		ts.Fatalf("cloud does not support !")
	}
	switch args[0] {
	case "fault":
		if len(args) < 3 || len(args) > 5 {
			ts.Fatalf("usage: cloud fault ROUTE STATUS [BODY] [TIMES]")
		}
		f := cloudtest.Fault{Route: args[1], Status: atoi(ts, args[2])}
		if len(args) > 3 {
			f.Body = args[3]
		}
		if len(args) > 4 {
			f.Times = atoi(ts, args[4])
		}
		srv.Fail(f)
	case "delay":
		if len(args) != 4 {
			ts.Fatalf("usage: cloud delay ROUTE DURATION TIMES")
		}
		d, err := time.ParseDuration(args[2])
		ts.Check(err)
		srv.Fail(cloudtest.Fault{Route: args[1], Delay: d, Times: atoi(ts, args[3])})
	case "requests":
		w := ts.Stdout() // replaces the previous command's stdout, even when empty
		for _, r := range srv.Requests() {
			fmt.Fprintln(w, r)
		}
	case "count":
		if len(args) != 3 {
			ts.Fatalf("usage: cloud count ROUTE N")
		}
		if got, want := srv.Count(args[1]), atoi(ts, args[2]); got != want {
			ts.Fatalf("%s got %d requests, want %d", args[1], got, want)
		}
	case "approve":
		if len(args) != 3 {
			ts.Fatalf("usage: cloud approve NAME VERSION")
		}
		ts.Check(srv.Approve(args[1], args[2]))
	case "package":
		if len(args) != 4 {
			ts.Fatalf("usage: cloud package NAME VERSION FILE")
		}
		ext := srv.Extension(args[1])
		if ext == nil {
			ts.Fatalf("no extension %s", args[1])
		}
		for _, sn := range ext.Snapshots {
			if sn.Version == args[2] {
				ts.Check(os.WriteFile(ts.MkAbs(args[3]), sn.Package, 0o644))
				return
			}
		}
		ts.Fatalf("no snapshot %s %s", args[1], args[2])
	case "files":
		var names []string
		for p := range srv.Files() {
			names = append(names, p)
		}
		sort.Strings(names)
		w := ts.Stdout()
		for _, n := range names {
			fmt.Fprintln(w, n)
		}
	case "verify":
		if v := srv.Violations(); len(v) > 0 {
			ts.Fatalf("protocol violations:\n%s", strings.Join(v, "\n"))
		}
	default:
		ts.Fatalf("unknown cloud command %q", args[0])
	}
}

func atoi(ts *testscript.TestScript, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		ts.Fatalf("%q is not a number", s)
	}
	return n
}
