package extension

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseImage(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "nginx", want: "docker.io/library/nginx"},
		{in: "nginx:1.27", want: "docker.io/library/nginx:1.27"},
		{in: "ghcr.io/org/app:v1", want: "ghcr.io/org/app:v1"},
		{in: " ghcr.io/org/app:v1 ", wantErr: "invalid reference format"},
		{in: "registry.local:5000/app@sha256:" + sha, want: "registry.local:5000/app@sha256:" + sha},
		{in: "Example/App:1", wantErr: "must be lowercase"},
		{in: "app:bad tag", wantErr: "invalid reference format"},
		{in: "", wantErr: "empty image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseImageRef(tt.in)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestValidateImagesAndHookImages(t *testing.T) {
	ext, diags := Parse([]byte(`apiVersion: kubesphere.io/v1alpha1
name: demo
version: 0.1.0
displayName: {en: Demo}
description: {en: Demo}
category: dev-tools
provider: {en: {name: Demo}}
icon: https://example.com/icon.svg
images:
  - nginx:1.27
  - docker.io/library/nginx:1.27
  - Bad/Image
annotations:
  executor-hook-image.kubesphere.io: kubesphere/kubectl:v1.27.16
  executor-hook-image.kubesphere.io/upgrade: ""
  executor-hook-image.kubesphere.io/rollback: kubesphere/kubectl:v1.27.16
  executor-hook-image.kubesphere.io/install: "not valid"
  example.com/other: anything
`))
	require.Empty(t, diags)
	var got []string
	for _, d := range ext.Validate() {
		got = append(got, d.Severity.String()+" "+d.Code+" "+d.Field)
	}
	assert.Equal(t, []string{
		"warning image-reference images[1]",
		"error image-reference images[2]",
		"error hook-image annotations.executor-hook-image.kubesphere.io/upgrade",
		"warning hook-image annotations.executor-hook-image.kubesphere.io/rollback",
		"error hook-image annotations.executor-hook-image.kubesphere.io/install",
	}, got, "in file order")
}
