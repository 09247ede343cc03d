package main

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdChartRepo serves a directory as a Helm chart repository over plain
// HTTP until the script ends, and sets VAR to its URL: "chartrepo DIR VAR".
func cmdChartRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: chartrepo DIR VAR")
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	ts.Defer(srv.Close)
	ts.Setenv(args[1], srv.URL)
}
