package cluster

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/config"
)

// WriteObjectFiles writes each object to DIR/<Kind>.yaml (ConfigMap.yaml,
// ExtensionVersion.yaml, Extension.yaml), as upstream ksbuilder's "publish
// --to-local-template" does, creating DIR (0755) and replacing files of the
// same names. Every object is encoded before the first file is written,
// and each file is written atomically. It returns the files' paths.
func WriteObjectFiles(dir string, objects []runtime.Object) ([]string, error) {
	type file struct {
		path string
		data []byte
	}
	files := make([]file, 0, len(objects))
	seen := map[string]bool{}
	for _, obj := range objects {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		if kind == "" || seen[kind] {
			return nil, fmt.Errorf("cannot name the file of a %T: kind %q is empty or taken", obj, kind)
		}
		seen[kind] = true
		data, err := sigsyaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		files = append(files, file{filepath.Join(dir, kind+".yaml"), data})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		if err := config.WriteFileAtomic(f.path, f.data, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, f.path)
	}
	return paths, nil
}
