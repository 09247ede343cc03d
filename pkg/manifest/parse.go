package manifest

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// TemplateError is a template that Helm's engine cannot parse.
type TemplateError struct {
	// Line is the line of the problem, 0 when Helm does not say.
	Line int
	// Message is the parser's message ("unclosed action").
	Message string
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + e.Message
	}
	return e.Message
}

// A template is parsed as template parseTemplate of chart parseChart;
// parseErrorRe reads the position back from Helm's "parse error at
// (t/templates/_t:line): message".
const (
	parseChart    = "t"
	parseTemplate = "templates/_t"
)

var parseErrorRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^parse error (?:at|in) \(` + regexp.QuoteMeta(parseChart+"/"+parseTemplate) + `(?::(\d+))?(?::\d+)?\): (.*)$`)
})

// ParseTemplate parses one template with Helm's own engine and functions,
// without executing it, and returns a *TemplateError when Helm could not
// parse it (an install of the chart would fail on it whatever the values).
func ParseTemplate(data []byte) error {
	// Helm parses every template of a chart but does not execute partials,
	// so the template is given to the engine as the only partial of a chart.
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: parseChart, Version: "0.0.0"},
		Templates: []*chart.File{{Name: parseTemplate, Data: data}},
	}
	_, err := engine.Render(c, chartutil.Values{})
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	m := parseErrorRe().FindStringSubmatch(msg)
	if m == nil {
		return &TemplateError{Message: msg}
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	// "unclosed action started at t/templates/_t:2" is reported at the
	// end of the file; the start is where to look.
	if before, at, ok := strings.Cut(msg, " started at "+parseChart+"/"+parseTemplate+":"); ok {
		if n, err := strconv.Atoi(at); err == nil {
			line, msg = n, before
		}
	}
	return &TemplateError{Line: line, Message: msg}
}

// ParseTemplates parses every template of a chart and its subcharts, as
// ParseTemplate, and calls bad for each that does not parse with its chart
// path ("ext/charts/backend/templates/a.yaml"). Library charts' templates
// that are not partials are left out, as Helm leaves them.
//
// All templates are parsed in one pass of Helm's engine, with one function
// map, as an install parses them; building Helm's function map for each
// template cost more than parsing it. Only when that pass fails is each
// template parsed on its own, to report every one that does not parse.
func ParseTemplates(c *chart.Chart, bad func(chartPath string, err *TemplateError)) {
	var paths []string
	var files []*chart.File
	var walk func(c *chart.Chart, prefix string)
	walk = func(c *chart.Chart, prefix string) {
		library := c.Metadata != nil && strings.EqualFold(c.Metadata.Type, "library")
		for _, t := range c.Templates {
			if t == nil || (library && !strings.HasPrefix(path.Base(t.Name), "_")) {
				continue
			}
			paths = append(paths, prefix+t.Name)
			files = append(files, t)
		}
		for _, sub := range c.Dependencies() {
			walk(sub, prefix+"charts/"+sub.Name()+"/")
		}
	}
	walk(c, c.Name()+"/")
	if len(files) == 0 || parseAll(files) == nil {
		return
	}
	for i, t := range files {
		if err := ParseTemplate(t.Data); err != nil {
			bad(paths[i], err.(*TemplateError))
		}
	}
}

// parseAll parses templates with Helm's engine in one pass, each as a
// partial of one chart so that none is executed, and returns the engine's
// error for the first that does not parse.
func parseAll(templates []*chart.File) error {
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: parseChart, Version: "0.0.0"},
		Templates: make([]*chart.File, len(templates)),
	}
	for i, t := range templates {
		c.Templates[i] = &chart.File{Name: parseTemplate + strconv.Itoa(i), Data: t.Data}
	}
	_, err := engine.Render(c, chartutil.Values{})
	return err
}
