package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ksbuilder/ksbuilder/pkg/config"
)

// fileStore keeps tokens in <dir>/credentials.json, mode 0600 in a 0700
// directory, replaced atomically on every change.
type fileStore struct {
	dir string
}

// tokenFile is the content of the token file.
type tokenFile struct {
	// Tokens maps a server host to its token.
	Tokens map[string]string `json:"tokens"`
}

func (f *fileStore) path() string { return filepath.Join(f.dir, FileName) }

func (f *fileStore) read() (*tokenFile, error) {
	data, err := os.ReadFile(f.path())
	if errors.Is(err, fs.ErrNotExist) {
		return &tokenFile{Tokens: map[string]string{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var tf tokenFile
	if err := json.Unmarshal(data, &tf); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON (%v); delete the file and run ksbuilder login again", f.path(), err)
	}
	if tf.Tokens == nil {
		tf.Tokens = map[string]string{}
	}
	return &tf, nil
}

func (f *fileStore) get(host string) (string, error) {
	tf, err := f.read()
	if err != nil {
		return "", err
	}
	return tf.Tokens[host], nil
}

func (f *fileStore) set(host, token string) error {
	tf, err := f.read()
	if err != nil {
		return err
	}
	tf.Tokens[host] = token
	return f.write(tf)
}

// remove deletes a host's token and reports whether there was one. The
// file is deleted when it holds no token any more.
func (f *fileStore) remove(host string) (bool, error) {
	tf, err := f.read()
	if err != nil {
		return false, err
	}
	if _, ok := tf.Tokens[host]; !ok {
		return false, nil
	}
	delete(tf.Tokens, host)
	if len(tf.Tokens) == 0 {
		return true, os.Remove(f.path())
	}
	return true, f.write(tf)
}

func (f *fileStore) write(tf *tokenFile) error {
	data, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(f.path(), append(data, '\n'), 0o600)
}
