// Package bundle checks a console UI bundle, the SystemJS module that the
// KubeSphere console loads through a JSBundle, and puts it into an
// extension's chart in place of the one there ("ksbuilder bundle",
// "ksbuilder create --frontend-dist").
package bundle

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// MaxSize is the largest bundle a chart can carry: a ConfigMap's data holds
// at most 1 MiB, and so does the whole package (packager.MaxSize).
const MaxSize = packager.MaxSize

// systemJSCall starts the module the console's extension tooling builds.
const systemJSCall = "System.register("

// legacyRegistration is how KubeSphere 4.0 bundles registered themselves.
const legacyRegistration = "globals.context.registerExtension"

// serviceAdvice says how to ship a bundle too big for the chart.
const serviceAdvice = "serve it from a Service instead: run a small web server (for example nginx with the dist/ directory) in the chart " +
	"and point the JSBundle at it with spec.rawFrom.service {namespace, name, port, path} " +
	"(without a port that means HTTPS on 443) or spec.rawFrom.url http://NAME.NAMESPACE.svc:PORT/index.js; see docs/frontend.md"

// TooLargeError is a bundle, or the package with it, over the 1 MiB budget.
type TooLargeError struct {
	// File is the bundle; Size its size, or the package's when Package is
	// set.
	File    string
	Size    int64
	Package string
}

func (e *TooLargeError) Error() string {
	if e.Package != "" {
		return fmt.Sprintf("with %s, the package %s would be %s, over the %s a published chart may take; %s",
			e.File, e.Package, units.FormatBytes(e.Size), units.FormatBytes(MaxSize), serviceAdvice)
	}
	return fmt.Sprintf("%s is %s, over the %s a ConfigMap (and the package) holds; %s",
		e.File, units.FormatBytes(e.Size), units.FormatBytes(MaxSize), serviceAdvice)
}

// ReadFile reads and checks a bundle (Check), reading no more than MaxSize
// and one byte.
func ReadFile(name string) (data []byte, warnings []string, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a file: give the bundle the console tooling built (extensions/NAME/dist/index.js)", name)
	}
	if fi.Size() > MaxSize {
		return nil, nil, &TooLargeError{File: name, Size: fi.Size()}
	}
	data, err = io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, nil, err
	}
	warnings, err = Check(name, data)
	if err != nil {
		return nil, nil, err
	}
	return data, warnings, nil
}

// Check refuses what the console cannot load from a chart: an empty file,
// one over MaxSize, one that is not UTF-8 text or not a SystemJS module.
// It warns about a bundle in KubeSphere 4.0's form. name names the file in
// messages.
func Check(name string, data []byte) (warnings []string, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty: build the bundle first (yarn build:ext NAME writes extensions/NAME/dist/index.js)", name)
	}
	if int64(len(data)) > MaxSize {
		return nil, &TooLargeError{File: name, Size: int64(len(data))}
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s is not UTF-8 text (invalid byte at offset %d): give the JavaScript bundle (extensions/NAME/dist/index.js), not an archive or image", name, invalidUTF8At(data))
	}
	if !bytes.Contains(data, []byte(systemJSCall)) {
		return nil, fmt.Errorf("%s is not a SystemJS module (no %s call): the console loads only what its extension tooling builds (yarn build:ext NAME)", name, systemJSCall)
	}
	if bytes.Contains(data, []byte(legacyRegistration)) {
		warnings = append(warnings, fmt.Sprintf("%s calls %s, the KubeSphere 4.0 form: 4.1 and later load a module that default-exports {routes, menus, locales}; rebuild it with the @ks-console packages of your KubeSphere version", name, legacyRegistration))
	}
	return warnings, nil
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
