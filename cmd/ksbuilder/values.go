package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

// stringList is a repeatable flag whose values are kept whole: Helm's value
// syntax has its own commas ("--set a=1,b=2", "--set-json '{...}'"), which
// cli.StringSliceFlag would split.
type stringList struct{ values []string }

// serializedPrefix marks a whole list: after parsing, urfave/cli copies a
// flag's value to its other names (-f and --values) through Serialize and
// Set, which must then replace the list rather than append to it.
const serializedPrefix = "\x00stringList:"

func (s *stringList) Set(v string) error {
	if rest, ok := strings.CutPrefix(v, serializedPrefix); ok {
		return json.Unmarshal([]byte(rest), &s.values)
	}
	s.values = append(s.values, v)
	return nil
}

func (s *stringList) String() string { return strings.Join(s.values, " ") }

// Serialize encodes the list for urfave/cli's copy between flag names.
func (s *stringList) Serialize() string {
	b, _ := json.Marshal(s.values)
	return serializedPrefix + string(b)
}

const valuesCategory = "Values (as in Helm; repeatable)"

// valuesFlags are Helm's values flags, for the commands that render or
// install the chart.
func valuesFlags() []cli.Flag {
	flag := func(name, alias, usage string) cli.Flag {
		f := &cli.GenericFlag{Name: name, Usage: usage, Value: &stringList{}, Category: valuesCategory}
		if alias != "" {
			f.Aliases = []string{alias}
		}
		return f
	}
	return []cli.Flag{
		flag("values", "f", "read values from a YAML `FILE` (- is stdin); later files win"),
		flag("set", "", "set values: `KEY=VALUE[,KEY=VALUE]`"),
		flag("set-string", "", "set a value kept as a string: `KEY=VALUE`"),
		flag("set-file", "", "set a value to a file's content: `KEY=FILE`"),
		flag("set-json", "", "set a JSON value: `KEY=JSON`"),
		flag("set-literal", "", "set a value taken verbatim: `KEY=VALUE`"),
	}
}

// valueOptions reads the values flags.
func valueOptions(c *cli.Context) values.Options {
	list := func(name string) []string {
		if l, ok := c.Generic(name).(*stringList); ok {
			return l.values
		}
		return nil
	}
	return values.Options{
		ValueFiles: list("values"), Values: list("set"), StringValues: list("set-string"),
		FileValues: list("set-file"), JSONValues: list("set-json"), LiteralValues: list("set-literal"),
	}
}

// mergeValues merges the values flags into one map (nil when none was
// given); a bad file or expression is a usage error.
func mergeValues(opts values.Options, stdin io.Reader) (map[string]any, error) {
	v, _, err := mergeValueSources(opts, stdin)
	return v, err
}

// mergeValueSources is mergeValues that also says which flag gave each
// value (values.Options.MergeSources), for the explanation of a value
// values.schema.json refuses.
func mergeValueSources(opts values.Options, stdin io.Reader) (map[string]any, manifest.ValueSource, error) {
	if opts.Empty() {
		return nil, nil, nil
	}
	v, source, err := opts.MergeSources(stdin)
	if err != nil {
		return nil, nil, usageErrorf("%v", err)
	}
	return v, source, nil
}

// Flags of the per-cluster values.
const (
	flagClusterValues = "cluster-values"
	flagClusterSet    = "cluster-set"
)

// Usage tails of clusterValuesFlags.
const (
	writtenAsOverride = "written as its override"
	mergedAsOverride  = "merged over the values as its override"
)

// clusterValuesFlags are --cluster-values and --cluster-set: the values
// of one cluster's agent, used as that cluster's override (what says
// how).
func clusterValuesFlags(what string) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: flagClusterValues, Usage: "Multicluster extensions: values `CLUSTER=FILE` for that cluster's agent, " + what, Category: valuesCategory},
		&cli.StringSliceFlag{Name: flagClusterSet, Usage: "Multicluster extensions: `CLUSTER:KEY=VALUE` for that cluster's agent, " + what, Category: valuesCategory},
	}
}

// clusterValueOptions reads --cluster-values and --cluster-set, grouped by
// cluster; a flag without its cluster part is a usage error.
func clusterValueOptions(c *cli.Context) (map[string]values.Options, error) {
	opts, err := values.ClusterOptions(c.StringSlice(flagClusterValues), c.StringSlice(flagClusterSet))
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return opts, nil
}

// mergeClusterValues reads --cluster-values and --cluster-set; bad ones
// are usage errors. nil when neither is given.
func mergeClusterValues(c *cli.Context, stdin io.Reader) (map[string]map[string]any, error) {
	opts, err := clusterValueOptions(c)
	if err != nil {
		return nil, err
	}
	v, err := values.MergeClusters(opts, stdin)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return v, nil
}
