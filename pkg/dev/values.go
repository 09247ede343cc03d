package dev

import (
	"reflect"
)

// valuesOverlay returns the values that turn the chart's published
// values.yaml (published) into the edited one (edited), given as user
// values over the published chart: changed and added keys with their new
// value, and removed keys as null, which Helm reads as "delete this
// default". Maps are compared key by key; anything else is replaced whole.
// Equal inputs give an empty map.
func valuesOverlay(published, edited map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range edited {
		old, had := published[k]
		if !had {
			out[k] = v
			continue
		}
		om, oldIsMap := old.(map[string]any)
		nm, newIsMap := v.(map[string]any)
		switch {
		case oldIsMap && newIsMap:
			if sub := valuesOverlay(om, nm); len(sub) > 0 {
				out[k] = sub
			}
		case !reflect.DeepEqual(old, v):
			out[k] = v
		}
	}
	for k := range published {
		if _, ok := edited[k]; !ok {
			out[k] = nil
		}
	}
	return out
}
