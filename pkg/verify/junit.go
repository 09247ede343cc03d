package verify

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnitSuites is a JUnit XML report as CI systems read it (Jenkins, GitLab,
// GitHub Actions' test reporters): testsuites, one testsuite per cluster,
// a testcase per check with failure or skipped. It is valid under the
// Jenkins xUnit plugin's JUnit schema (junit-10.xsd), which has no skipped
// count on testsuites: the suites carry theirs.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is the checks of one cluster.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one check.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure or a skip: its message attribute and its text.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit converts a report: one testsuite for the host release and one per
// agent (and those again for the checks before an upgrade), failed checks as failures with their logs, skipped and not
// checked ones as skipped.
func (r *Report) JUnit() *JUnitSuites {
	out := &JUnitSuites{Name: "ksbuilder test " + r.Extension, Time: seconds(r.Summary.Seconds)}
	index := map[string]int{}
	var times []float64
	for _, res := range r.Results {
		suite, class := r.Extension+" "+r.Version, "host"
		if res.Phase != "" {
			suite, class = r.Extension+" ("+res.Phase+")", "before-upgrade."+class
		}
		if res.Cluster != "" {
			suite, class = suite+" agent on cluster "+res.Cluster, strings.TrimSuffix(class, "host")+"agent."+res.Cluster
		}
		i, ok := index[suite]
		if !ok {
			i = len(out.Suites)
			index[suite] = i
			out.Suites = append(out.Suites, JUnitSuite{Name: suite})
			times = append(times, 0)
		}
		times[i] += res.Seconds
		s := &out.Suites[i]
		c := JUnitCase{Name: res.Check, Classname: r.Extension + "." + class, Time: seconds(res.Seconds)}
		switch res.Status {
		case Failed:
			c.Failure = &JUnitMessage{Message: res.Reason, Type: "fail", Text: logText(res.Logs)}
			s.Failures++
		case Skipped, NotChecked:
			c.Skipped = &JUnitMessage{Message: string(res.Status) + ": " + res.Reason}
			s.Skipped++
		default:
			c.SystemOut = res.Reason
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		out.Tests, out.Failures = out.Tests+s.Tests, out.Failures+s.Failures
		s.Time = seconds(times[i])
	}
	return out
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r.JUnit()); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// logText is log lines as text, each prefixed with where it comes from.
func logText(logs []LogLine) string {
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}
