// Package credentials stores KubeSphere Cloud API tokens, one per server
// host. A token given in the environment wins; otherwise tokens live in the
// OS keyring (service "ksbuilder", account = server host). When no keyring is
// usable (headless Linux, CI, a locked or slow keyring) they go to a file in
// the config directory, readable only by the user, and the caller is told so.
package credentials

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name.
const Service = "ksbuilder"

// DefaultTimeout bounds each keyring call: a keyring waiting for an unlock
// prompt that nobody sees would otherwise hang the command.
const DefaultTimeout = 3 * time.Second

// FileName is the name of the token file in the config directory.
const FileName = "credentials.json"

// ErrNotFound means no token is stored for the host.
var ErrNotFound = errors.New("no token stored")

// Source says where a token was found or stored.
type Source string

const (
	// SourceEnv is a token from the environment (KSBUILDER_TOKEN).
	SourceEnv Source = "environment"
	// SourceKeyring is the OS keyring.
	SourceKeyring Source = "keyring"
	// SourceFile is the token file in the config directory.
	SourceFile Source = "file"
)

// Keyring is the part of the OS keyring the store uses.
type Keyring interface {
	Get(service, account string) (string, error)
	Set(service, account, secret string) error
	Delete(service, account string) error
}

// SystemKeyring is the OS keyring through zalando/go-keyring (or its mock,
// after keyring.MockInit).
type SystemKeyring struct{}

// Get implements Keyring.
func (SystemKeyring) Get(service, account string) (string, error) {
	return keyring.Get(service, account)
}

// Set implements Keyring.
func (SystemKeyring) Set(service, account, secret string) error {
	return keyring.Set(service, account, secret)
}

// Delete implements Keyring.
func (SystemKeyring) Delete(service, account string) error {
	return keyring.Delete(service, account)
}

// Options configure a Store.
type Options struct {
	// Dir is the config directory that holds the token file.
	Dir string
	// EnvToken is a token from the environment; when set, Get returns it
	// for every host.
	EnvToken string
	// Keyring is the keyring to use; nil means the file store only.
	Keyring Keyring
	// Timeout bounds each keyring call; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Store reads and writes tokens.
type Store struct {
	opts Options
	file *fileStore
}

// New returns a store.
func New(opts Options) *Store {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Store{opts: opts, file: &fileStore{dir: opts.Dir}}
}

// FilePath returns the path of the token file.
func (s *Store) FilePath() string { return s.file.path() }

// Result says where a token was stored or found and, when the file store
// was used because the keyring failed, why.
type Result struct {
	Source Source
	// KeyringErr is the keyring's failure that made the store use the file.
	KeyringErr error
}

// Get returns the token for a host: the environment's, else the file's,
// else the keyring's. It returns ErrNotFound when there is none.
//
// The file comes before the keyring because it only holds a token when the
// last Set could not use the keyring (a successful Set removes it): a
// keyring that timed out may still hold an older token, or receive the new
// one late, and that copy must not win.
func (s *Store) Get(host string) (string, Result, error) {
	if s.opts.EnvToken != "" {
		return s.opts.EnvToken, Result{Source: SourceEnv}, nil
	}
	token, err := s.file.get(host)
	if err != nil {
		return "", Result{}, err
	}
	if token != "" {
		return token, Result{Source: SourceFile}, nil
	}
	if s.opts.Keyring == nil {
		return "", Result{}, ErrNotFound
	}
	token, err = s.keyringGet(host)
	switch {
	case err == nil && token != "":
		return token, Result{Source: SourceKeyring}, nil
	case err != nil && !errors.Is(err, keyring.ErrNotFound):
		return "", Result{KeyringErr: err}, fmt.Errorf("%w (the keyring failed: %v)", ErrNotFound, err)
	}
	return "", Result{}, ErrNotFound
}

// Set stores the token for a host in the keyring, or in the file when the
// keyring is not usable. A token stored in the keyring is removed from the
// file, so no stale copy stays on disk.
func (s *Store) Set(host, token string) (Result, error) {
	if token == "" {
		return Result{}, errors.New("empty token")
	}
	var keyringErr error
	if s.opts.Keyring != nil {
		keyringErr = s.call(func() error { return s.opts.Keyring.Set(Service, host, token) })
		if keyringErr == nil {
			if _, err := s.file.remove(host); err != nil {
				return Result{Source: SourceKeyring}, fmt.Errorf("the token is in the keyring, but an old copy could not be removed from %s: %w", s.file.path(), err)
			}
			return Result{Source: SourceKeyring}, nil
		}
	}
	if err := s.file.set(host, token); err != nil {
		if keyringErr != nil {
			return Result{}, fmt.Errorf("storing the token: keyring: %v; file: %w", keyringErr, err)
		}
		return Result{}, err
	}
	return Result{Source: SourceFile, KeyringErr: keyringErr}, nil
}

// Delete removes the token for a host from the keyring and the file. It
// reports whether a token was removed; removing nothing is not an error. A
// keyring that cannot be reached is reported in Result.KeyringErr.
func (s *Store) Delete(host string) (bool, Result, error) {
	removed := false
	var res Result
	if s.opts.Keyring != nil {
		err := s.call(func() error { return s.opts.Keyring.Delete(Service, host) })
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, keyring.ErrNotFound):
			res.KeyringErr = err
		}
	}
	inFile, err := s.file.remove(host)
	if err != nil {
		return removed, res, err
	}
	return removed || inFile, res, nil
}

func (s *Store) keyringGet(host string) (string, error) {
	return withTimeout(s.opts.Timeout, func() (string, error) { return s.opts.Keyring.Get(Service, host) })
}

// TimeoutError is a keyring call that did not return in time.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the keyring did not answer within %s", e.Timeout)
}

// call runs a keyring operation with the timeout.
func (s *Store) call(op func() error) error {
	_, err := withTimeout(s.opts.Timeout, func() (struct{}, error) { return struct{}{}, op() })
	return err
}

// withTimeout runs op and waits at most timeout for it. An operation that
// times out is abandoned; its goroutine ends when the keyring answers.
func withTimeout[T any](timeout time.Duration, op func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := op()
		done <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, &TimeoutError{Timeout: timeout}
	}
}
