package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// ReplaceOptions say which bundle goes where.
type ReplaceOptions struct {
	// File is the new bundle (extensions/NAME/dist/index.js).
	File string
	// Dir is the extension's directory.
	Dir string
	// JSBundle picks the JSBundle whose bundle is replaced when several
	// load one from a file; "" accepts the only one.
	JSBundle string
}

// Result says what Replace did.
type Result struct {
	Target
	// Size is the new bundle's size in bytes; PackageSize the size of the
	// package built with it.
	Size        int64 `json:"size"`
	PackageSize int64 `json:"packageSize"`
	// Unchanged is set when the file already held the bundle (nothing was
	// written).
	Unchanged bool `json:"unchanged"`
	// Warnings are problems of the bundle that do not stop it (Check).
	Warnings []string `json:"warnings"`
}

// Replace checks a bundle (ReadFile), finds the file of the extension in
// opts.Dir that holds its bundle (Locate), checks that the package built
// with the new bundle stays within the size limit, and then replaces the
// file atomically. ctx is checked just before the file is replaced; nothing
// is written when it is cancelled or anything fails.
func Replace(ctx context.Context, opts ReplaceOptions) (*Result, error) {
	data, warnings, err := ReadFile(opts.File)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: give the extension's directory (a package cannot be changed; rebuild it with ksbuilder package)", opts.Dir)
	}
	src, err := source.LoadDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	target, err := Locate(src, opts.JSBundle)
	if err != nil {
		return nil, err
	}
	res := &Result{Target: target, Size: int64(len(data)), Warnings: warnings}
	old, _ := src.Read(target.File)
	src.Write(target.File, data)
	pkg, err := packager.Build(src, packager.Options{})
	var tooLarge *packager.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &TooLargeError{File: opts.File, Size: tooLarge.Size, Package: pkg.FileName()}
	}
	if err != nil {
		return nil, err
	}
	res.PackageSize = pkg.Size()
	for _, w := range pkg.Warnings {
		if w.Code == packager.CodePackageSize {
			res.Warnings = append(res.Warnings, fmt.Sprintf("with %s, %s (%s)", opts.File, w.Message, w.Hint))
		}
	}
	if bytes.Equal(old, data) {
		res.Unchanged = true
		return res, nil
	}
	if err := writeAtomic(ctx, filepath.Join(opts.Dir, filepath.FromSlash(target.File)), data); err != nil {
		return nil, err
	}
	return res, nil
}

// writeAtomic replaces path with data through a temporary file in the same
// directory, keeping path's permissions. The temporary file is named by
// source.TempFilePattern, so if the process is killed before the rename,
// the leftover is never taken into a package. ctx is checked just before
// the rename.
func writeAtomic(ctx context.Context, path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), source.TempFilePattern(os.Getpid(), filepath.Base(path)))
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	err = errors.Join(werr, tmp.Sync(), tmp.Chmod(mode), tmp.Close(), ctx.Err())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var pe *os.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return fmt.Errorf("writing %s: %w", path, err) // named, not the temporary file
	}
	return nil
}
