package dev

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// EventSource delivers the paths of files that may have changed. The loop
// filters them (ignored files, editor temporary files) and debounces them.
type EventSource interface {
	// Events delivers absolute paths of created, written, removed or
	// renamed files. It is closed when the source stops.
	Events() <-chan string
	// Errors delivers problems that do not stop the source.
	Errors() <-chan error
	// Close stops the source.
	Close() error
}

// FSWatcher is the EventSource on the file system (fsnotify): it watches a
// directory tree, adding directories created later, and the directories of
// extra files outside the tree.
type FSWatcher struct {
	w       *fsnotify.Watcher
	root    string
	skipDir func(path string) bool
	events  chan string
	errs    chan error
	done    chan struct{}
	closed  sync.Once
	// extraDirs are the directories watched for the extra files.
	extraDirs map[string]bool
}

// NewFSWatcher watches every directory under root for which skipDir (given
// the absolute path) is false, and the directories holding extra files.
// skipDir may be nil.
func NewFSWatcher(root string, extra []string, skipDir func(path string) bool) (*FSWatcher, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if skipDir == nil {
		skipDir = func(string) bool { return false }
	}
	fw := &FSWatcher{w: w, root: root, skipDir: skipDir, events: make(chan string, 256), errs: make(chan error, 16), done: make(chan struct{}), extraDirs: map[string]bool{}}
	if _, err := fw.addTree(root, false); err != nil {
		_ = w.Close()
		return nil, err
	}
	for _, f := range extra {
		abs, err := filepath.Abs(f)
		if err != nil {
			_ = w.Close()
			return nil, err
		}
		// Inside the tree, a file in a skipped directory needs its
		// directory watched too.
		if dir := filepath.Dir(abs); !within(root, dir) || (dir != root && skipDir(dir)) {
			if err := w.Add(dir); err != nil {
				_ = w.Close()
				return nil, err
			}
			fw.extraDirs[dir] = true
		}
	}
	go fw.run()
	return fw, nil
}

// addTree watches dir and the directories below it. With report, it
// returns the files found, which may have been written before the watch
// began.
func (fw *FSWatcher) addTree(dir string, report bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if !d.IsDir() {
			if report {
				files = append(files, p)
			}
			return nil
		}
		if p != fw.root && fw.skipDir(p) {
			return filepath.SkipDir
		}
		return fw.w.Add(p)
	})
	return files, err
}

// Rescan applies skipDir to the tree again, after the rules behind it
// changed (.helmignore was edited): directories no longer skipped are
// watched, and those now skipped are not. Files already in a newly
// watched directory are not reported: the change of the rules is.
func (fw *FSWatcher) Rescan() error {
	for _, p := range fw.w.WatchList() {
		if p != fw.root && within(fw.root, p) && !fw.extraDirs[p] && fw.skipDir(p) {
			if err := fw.w.Remove(p); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
				return err
			}
		}
	}
	_, err := fw.addTree(fw.root, false)
	return err
}

func (fw *FSWatcher) run() {
	defer close(fw.events)
	for {
		select {
		case <-fw.done:
			return
		case e, ok := <-fw.w.Events:
			if !ok {
				return
			}
			if e.Has(fsnotify.Chmod) && !e.Has(fsnotify.Write) && !e.Has(fsnotify.Create) {
				continue
			}
			paths := []string{e.Name}
			if e.Has(fsnotify.Create) && within(fw.root, e.Name) {
				if fi, err := os.Lstat(e.Name); err == nil && fi.IsDir() && !fw.skipDir(e.Name) {
					files, err := fw.addTree(e.Name, true)
					if err != nil {
						fw.sendErr(err)
					}
					paths = append(paths, files...)
				}
			}
			for _, p := range paths {
				select {
				case fw.events <- p:
				case <-fw.done:
					return
				}
			}
		case err, ok := <-fw.w.Errors:
			if !ok {
				return
			}
			fw.sendErr(err)
		}
	}
}

func (fw *FSWatcher) sendErr(err error) {
	select {
	case fw.errs <- err:
	default: // the loop is behind; one report of a burst is enough
	}
}

// Events implements EventSource.
func (fw *FSWatcher) Events() <-chan string { return fw.events }

// Errors implements EventSource.
func (fw *FSWatcher) Errors() <-chan error { return fw.errs }

// Close implements EventSource.
func (fw *FSWatcher) Close() error {
	var err error
	fw.closed.Do(func() {
		close(fw.done)
		err = fw.w.Close()
	})
	return err
}

// within reports whether p is root or lies under it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator))
}
