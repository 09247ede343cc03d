package verify_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

// TestJUnitValidatesAgainstSchema validates the JUnit report of every kind
// of result (passed, failed with logs, skipped, not checked; before an
// upgrade; on an agent's cluster) against the Jenkins xUnit plugin's JUnit
// schema with xmllint, as CI systems read it.
func TestJUnitValidatesAgainstSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is not installed (.ci/run installs Debian's libxml2-utils)")
		}
		t.Skip("xmllint is not installed (Debian: libxml2-utils)")
	}
	rep := &verify.Report{Extension: "hello", Version: "0.2.0", Summary: verify.Summary{Seconds: 1234.5678}}
	for _, r := range []verify.Result{
		{Check: "InstallPlan hello is Installed", Phase: "before the upgrade, 0.1.0", Outcome: verify.Outcome{Status: verify.Passed, Reason: "version 0.1.0"}, Seconds: 0.01},
		{Check: "InstallPlan hello is Installed", Outcome: verify.Outcome{Status: verify.Passed, Reason: "version 0.2.0"}, Seconds: 0.02},
		{Check: `Deployment extension-hello/hello is ready`, Outcome: verify.Outcome{Status: verify.Failed, Reason: `pod <p> & "q" is in CrashLoopBackOff`,
			Logs: []verify.LogLine{{Cluster: "host", Pod: "p", Container: "c", Text: "panic: \x1b[31m<boom>\x1b[0m & \x00"}}}, Seconds: 300},
		{Check: "test hook ConfigMap cm of release hello", Outcome: verify.Outcome{Status: verify.Skipped, Reason: "ksbuilder runs Pods and Jobs only"}},
		{Check: "agent release hello-agent on cluster member1", Cluster: "member1", Outcome: verify.Outcome{Status: verify.NotChecked, Reason: "cluster member1 cannot be reached"}},
		{Check: "Deployment extension-hello/hello-agent is ready", Cluster: "host", Outcome: verify.Outcome{Status: verify.Passed}, Seconds: 2.5},
	} {
		rep.Results = append(rep.Results, r)
	}
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit-10.xsd"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("the JUnit report does not validate against the Jenkins xUnit schema: %v\n%s\n%s", err, out, buf.String())
	}
}
