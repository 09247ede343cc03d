package lint

import (
	"path/filepath"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// BenchmarkLint lints each corpus extension, read once into memory: Helm's
// linter on the chart and every subchart, then the renders and the rules.
func BenchmarkLint(b *testing.B) {
	for _, name := range corpus {
		src, err := source.Load(filepath.Join("../../testdata/corpus", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Lint(src, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLintScaffold lints the project "ksbuilder create" makes.
func BenchmarkLintScaffold(b *testing.B) {
	files, _, err := create.Render(create.Options{Name: "hello", Category: "dev-tools", Author: "Jane Doe", Type: create.Full})
	if err != nil {
		b.Fatal(err)
	}
	src := sourceOf("hello", files)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Lint(src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
