// Package config reads and writes ksbuilder's settings file, config.json in
// the config directory. It holds no secrets: API tokens are kept by
// pkg/credentials.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DirEnv names the environment variable that relocates the config directory.
const DirEnv = "KSBUILDER_CONFIG_DIR"

// FileName is the name of the settings file in the config directory.
const FileName = "config.json"

// Config is the content of config.json.
type Config struct {
	// Server is the KubeSphere Cloud API URL of the last login.
	Server string `json:"server,omitempty"`
}

// Dir returns the config directory: $KSBUILDER_CONFIG_DIR, else the OS user
// config directory (e.g. ~/.config) + "/ksbuilder". getenv is os.Getenv in
// production.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory (%v); set %s", err, DirEnv)
	}
	return filepath.Join(base, "ksbuilder"), nil
}

// Load reads config.json from dir. A missing file is an empty Config.
func Load(dir string) (*Config, error) {
	p := filepath.Join(dir, FileName)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON (%v); fix or delete the file", p, err)
	}
	return &c, nil
}

// Save writes config.json into dir atomically.
func (c *Config) Save(dir string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, FileName), append(data, '\n'), 0o600)
}

// WriteFileAtomic writes data to a temporary file next to path with the
// given mode and renames it into place, so readers never see a partial
// file. Missing parent directories are created with mode 0700.
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
