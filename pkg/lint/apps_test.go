package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appStoreObjects reads the app-chart pass fixture's template with some
// text replaced.
func appStoreObjects(t *testing.T, oldNew ...string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "app-chart", "pass", "charts", "app", "templates", "appstore.yaml"))
	require.NoError(t, err)
	perms, err := os.ReadFile(filepath.Join(fixtures, "app-chart", "pass", "permissions.yaml"))
	require.NoError(t, err)
	return map[string]string{
		"permissions.yaml":                   string(perms),
		"charts/app/templates/appstore.yaml": strings.NewReplacer(oldNew...).Replace(string(data)),
	}
}

// TestAppChartVersionAndArchive: a versionName that is not the chart's
// version is a warning naming the right one; a ConfigMap holding something
// other than a chart archive is an error.
func TestAppChartVersionAndArchive(t *testing.T) {
	got := kindFindings(t, appStoreObjects(t, "versionName: 1.2.3", "versionName: 1.2.4"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `warning [app-chart] charts/app/templates/appstore.yaml:18:3 spec.versionName: ApplicationVersion "webapp-abcde-1-2-3-fghij" says version "1.2.4", but its chart (ConfigMap "webapp-abcde-1-2-3-fghij") is webapp 1.2.3`)
	assert.Contains(t, got[0], `(set versionName to "1.2.3")`)

	got = kindFindings(t, appStoreObjects(t, "BinaryKey: H4sI", "BinaryKey: bm90IGEgY2hhcnQ= #"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], `error [app-chart]`)
	assert.Contains(t, got[0], `is not a Helm chart archive`)

	// The app-id of an Application the package does not create is only
	// questioned when the package creates Applications.
	got = kindFindings(t, appStoreObjects(t, "kind: Application\n", "kind: ConfigMap\n"))
	assert.Empty(t, got)
}
