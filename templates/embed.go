// Package templates holds the file trees that "ksbuilder create" renders.
// Files ending in .tmpl are Go templates with [[ ]] delimiters (so Helm's
// {{ }} passes through) and lose the suffix; every other file is copied
// byte for byte.
//
//   - base: files every extension gets (extension.yaml, permissions.yaml, ...)
//   - frontend: a subchart serving a console UI bundle (JSBundle)
//   - backend: a subchart serving an API behind an APIService
//   - entry: a subchart adding a console menu entry that links to or embeds
//     an existing application (create --from)
//   - app: a subchart publishing a Helm chart in the KubeSphere App Store
//     (create --type app --from)
package templates

import "embed"

// FS is the embedded template trees. The all: prefix keeps dot-files such as
// .helmignore.
//
//go:embed all:base all:frontend all:backend all:entry all:app
var FS embed.FS
