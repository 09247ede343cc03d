package main

import (
	"encoding/json"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// stringList is a repeatable flag whose values are kept whole: unlike
// cli.StringSliceFlag it never splits on commas, which --set and --set-json
// values contain.
type stringList []string

// serializedPrefix marks the whole list, as urfave/cli copies it between a
// flag's names (-f and --values) through Serialize and Set.
const serializedPrefix = "\x00stringList:"

func (s *stringList) Set(v string) error {
	if rest, ok := strings.CutPrefix(v, serializedPrefix); ok {
		return json.Unmarshal([]byte(rest), s)
	}
	*s = append(*s, v)
	return nil
}

func (s *stringList) String() string { return strings.Join(*s, " ") }

// Serialize encodes the list for urfave/cli's copy between flag names.
func (s *stringList) Serialize() string {
	b, _ := json.Marshal([]string(*s))
	return serializedPrefix + string(b)
}

// valuesFlags are Helm's values flags, for commands that render the chart.
func valuesFlags() []cli.Flag {
	return []cli.Flag{
		&cli.GenericFlag{Name: "values", Aliases: []string{"f"}, Value: &stringList{}, Usage: "values `FILE` (YAML), as the InstallPlan's config; repeat for several, later ones win; - reads stdin"},
		&cli.GenericFlag{Name: "set", Value: &stringList{}, Usage: "set a value, e.g. --set backend.replicaCount=2 (repeatable)"},
		&cli.GenericFlag{Name: "set-string", Value: &stringList{}, Usage: "set a value as a string, e.g. --set-string image.tag=1.10 (repeatable)"},
		&cli.GenericFlag{Name: "set-file", Value: &stringList{}, Usage: "set a value to the content of a file, e.g. --set-file config=app.conf (repeatable)"},
		&cli.GenericFlag{Name: "set-json", Value: &stringList{}, Usage: `set a JSON value, e.g. --set-json 'global.nodeSelector={"disk":"ssd"}' (repeatable)`},
	}
}

// valueOptions reads the values flags.
func valueOptions(c *cli.Context) manifest.ValueOptions {
	get := func(name string) []string {
		if l, ok := c.Generic(name).(*stringList); ok && len(*l) > 0 {
			return *l
		}
		return nil
	}
	return manifest.ValueOptions{
		ValueFiles: get("values"), Values: get("set"), StringValues: get("set-string"),
		FileValues: get("set-file"), JSONValues: get("set-json"),
	}
}
