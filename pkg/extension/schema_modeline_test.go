package extension_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// schemaURL is where editors fetch the schemas of docs/schema from.
const schemaURL = "https://raw.githubusercontent.com/ksbuilder/ksbuilder/main/docs/schema/"

// TestScaffoldSchemaModeline checks that the scaffold's extension.yaml and
// permissions.yaml open with a yaml-language-server modeline naming their
// schema, and that packaging keeps it and still reads both files.
func TestScaffoldSchemaModeline(t *testing.T) {
	files, _, err := create.Render(create.Options{Type: create.Full, Name: "hello", Category: "dev-tools", Author: "Jane Doe"})
	require.NoError(t, err)
	list := make([]source.File, 0, len(files))
	for name, data := range files {
		list = append(list, source.File{Name: filepath.ToSlash(name), Data: data})
	}
	pkg, err := packager.Build(source.New("hello", source.Directory, list), packager.Options{})
	require.NoError(t, err)
	packaged, err := source.ReadArchive(bytes.NewReader(pkg.Data), pkg.FileName(), source.DefaultLimits)
	require.NoError(t, err)

	for file, schema := range map[string]string{
		extension.MetadataFile:    "extension.schema.json",
		extension.PermissionsFile: "permissions.schema.json",
	} {
		modeline := "# yaml-language-server: $schema=" + schemaURL + schema
		first, _, _ := strings.Cut(string(files[file]), "\n")
		assert.Equal(t, modeline, first, "scaffolded %s", file)
		data, ok := packaged.Read(file)
		require.True(t, ok, "the package has no %s", file)
		first, _, _ = strings.Cut(string(data), "\n")
		assert.Equal(t, modeline, first, "packaged %s", file)
	}
	// The modeline is a comment: the packaged metadata still parses.
	assert.Equal(t, "hello", pkg.Extension.Name)
	assert.False(t, pkg.Extension.Validate().HasErrors())
}
