package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
)

// API paths (KubeSphere Cloud, as used by upstream ksbuilder).
const (
	pathUser          = "/apis/user/v1/user"
	pathFilesUsage    = "/apis/extension/v1/users/{user}/files/usage"
	pathFiles         = "/apis/extension/v1/users/{user}/files"
	pathPackage       = "/apis/extension/v1/users/{user}/extensions/{name}/package"
	pathSubmit        = "/apis/extension/v1/users/{user}/snapshots/{snapshot}/action:submit"
	pathCancelSubmit  = "/apis/extension/v1/users/{user}/snapshots/{snapshot}/action:cancel-submit"
	pathSearch        = "/apis/extension/v1/extensions/search"
	pathSummary       = "/apis/extension/v1/extensions/{name}/summary"
	pathSnapshots     = "/apis/extension/v1/extensions/{name}/snapshots"
	pathVersion       = "/apis/extension/v1/extensions/{name}/versions/{version}"
	cancelSubmitNote  = "cancel submit"
	packageFieldName  = "extension_package"
	searchAllStatuses = "*"
)

// ID is an identifier the API sends as a JSON string (an 18-digit snowflake
// such as "516955082294618939"). A JSON number is accepted too, digit for
// digit.
type ID string

// UnmarshalJSON accepts a string or an integer.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*id = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("an ID must be a string or a number, got %s", b)
		}
		*id = ID(n.String())
	}
	return nil
}

// User is the account that owns the token.
type User struct {
	ID ID `json:"user_id"`
}

// Extension is an extension record in the marketplace.
type Extension struct {
	ID            ID             `json:"extension_id"`
	Name          string         `json:"name"`
	Status        string         `json:"status"`
	LatestVersion *VersionDigest `json:"latest_version"`
}

// Latest returns the latest version, or "".
func (e *Extension) Latest() string {
	if e.LatestVersion == nil {
		return ""
	}
	return e.LatestVersion.Version
}

// VersionDigest names a version.
type VersionDigest struct {
	Version string `json:"version"`
}

// Snapshot is one uploaded version of an extension and its review status.
type Snapshot struct {
	ID       ID            `json:"snapshot_id"`
	Metadata VersionDigest `json:"metadata"`
	Status   string        `json:"status"`
	// UpdatedAt is an RFC 3339 time.
	UpdatedAt string `json:"updated_at"`
}

// Statuses the marketplace uses.
const (
	// StatusDraft is an extension or snapshot not (or no longer) submitted.
	StatusDraft = "draft"
	// StatusSubmitted is a snapshot waiting for review.
	StatusSubmitted = "submitted"
	// StatusActive is an approved snapshot.
	StatusActive = "active"
)

// File is a file to upload to the caller's file storage.
type File struct {
	// Name is the file name sent with the data.
	Name string
	// Path is where the file is stored: "<dir>/<extension>/<version>/<name>"
	// with forward slashes, <dir> coming from FilesDir.
	Path string
	Data []byte
}

// CurrentUser returns the account the token belongs to. It is the call that
// checks a token.
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var u User
	if err := c.do(ctx, call{method: http.MethodGet, path: pathUser, idempotent: true}, &u); err != nil {
		return nil, err
	}
	if u.ID == "" {
		return nil, errors.New("the server's answer about the current user has no user_id")
	}
	c.mu.Lock()
	c.userID = string(u.ID)
	c.mu.Unlock()
	return &u, nil
}

// UserID returns the caller's user ID, asking the server the first time.
func (c *Client) UserID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.userID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	u, err := c.CurrentUser(ctx)
	if err != nil {
		return "", err
	}
	return string(u.ID), nil
}

// FilesDir returns the directory of the caller's file storage, the prefix
// of every uploaded file's Path.
func (c *Client) FilesDir(ctx context.Context) (string, error) {
	user, err := c.UserID(ctx)
	if err != nil {
		return "", err
	}
	var out struct {
		Dir string `json:"dir"`
	}
	cl := call{method: http.MethodGet, path: pathFilesUsage, params: map[string]string{"user": user}, idempotent: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return "", err
	}
	return out.Dir, nil
}

// UploadFiles stores files and returns their URLs, in the order given. The
// request is multipart: for each file i (from 1), a part "file<i>" with the
// data, then a field "file<i>_path" with its Path. It is never retried.
func (c *Client) UploadFiles(ctx context.Context, files []File) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	user, err := c.UserID(ctx)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for i, f := range files {
		if err := writeFilePart(w, fmt.Sprintf("file%d", i+1), f.Name, f.Data); err != nil {
			return nil, err
		}
		if err := w.WriteField(fmt.Sprintf("file%d_path", i+1), f.Path); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	var out struct {
		Files []struct {
			URL string `json:"url"`
		} `json:"files"`
	}
	name := files[0].Name
	if len(files) > 1 {
		name = fmt.Sprintf("%d files", len(files))
	}
	cl := call{
		method: http.MethodPost, path: pathFiles, params: map[string]string{"user": user},
		body: body.Bytes(), contentType: w.FormDataContentType(), upload: name,
	}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	if len(out.Files) != len(files) {
		return nil, fmt.Errorf("the server returned %d URLs for %d files", len(out.Files), len(files))
	}
	urls := make([]string, len(files))
	for i, f := range out.Files {
		if f.URL == "" {
			return nil, fmt.Errorf("the server returned no URL for the uploaded %s", files[i].Path)
		}
		urls[i] = f.URL
	}
	return urls, nil
}

// UploadPackage uploads an extension package (<name>-<version>.tgz),
// creating the extension if it does not exist and replacing a snapshot of
// the same version, and returns the new snapshot's ID. It is never retried.
func (c *Client) UploadPackage(ctx context.Context, name, fileName string, data []byte) (string, error) {
	user, err := c.UserID(ctx)
	if err != nil {
		return "", err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := writeFilePart(w, packageFieldName, fileName, data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	var out struct {
		Snapshot struct {
			ID ID `json:"snapshot_id"`
		} `json:"snapshot"`
	}
	cl := call{
		method: http.MethodPost, path: pathPackage,
		params: map[string]string{"user": user, "name": name},
		query:  map[string]string{"force": "true", "create_extension": "true"},
		body:   body.Bytes(), contentType: w.FormDataContentType(), upload: fileName,
	}
	if err := c.do(ctx, cl, &out); err != nil {
		return "", err
	}
	if out.Snapshot.ID == "" {
		return "", errors.New("the server's answer to the package upload has no snapshot.snapshot_id")
	}
	return string(out.Snapshot.ID), nil
}

// Submit sends a snapshot for review with a message. It is never retried,
// so a submission is made at most once.
func (c *Client) Submit(ctx context.Context, snapshotID, message string) error {
	return c.snapshotAction(ctx, pathSubmit, snapshotID, message)
}

// CancelSubmit takes a submitted snapshot back to draft.
func (c *Client) CancelSubmit(ctx context.Context, snapshotID string) error {
	return c.snapshotAction(ctx, pathCancelSubmit, snapshotID, cancelSubmitNote)
}

func (c *Client) snapshotAction(ctx context.Context, path, snapshotID, message string) error {
	user, err := c.UserID(ctx)
	if err != nil {
		return err
	}
	cl := call{
		method: http.MethodPost, path: path,
		params: map[string]string{"user": user, "snapshot": snapshotID},
		body:   map[string]string{"message": message},
	}
	return c.do(ctx, cl, nil)
}

// MyExtensions lists the extensions of the caller, in every status.
func (c *Client) MyExtensions(ctx context.Context) ([]Extension, error) {
	user, err := c.UserID(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		Extensions []Extension `json:"extensions"`
	}
	body := map[string][]string{"developer_ids": {user}, "statuses": {searchAllStatuses}}
	cl := call{method: http.MethodPost, path: pathSearch, body: body, idempotent: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return out.Extensions, nil
}

// ExtensionSummary returns an extension's record.
func (c *Client) ExtensionSummary(ctx context.Context, name string) (*Extension, error) {
	var out Extension
	cl := call{method: http.MethodGet, path: pathSummary, params: map[string]string{"name": name}, idempotent: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Snapshots lists an extension's snapshots, as the server orders them.
func (c *Client) Snapshots(ctx context.Context, name string) ([]Snapshot, error) {
	var out []Snapshot
	cl := call{method: http.MethodGet, path: pathSnapshots, params: map[string]string{"name": name}, idempotent: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SnapshotOf returns the snapshot of one version of an extension.
func (c *Client) SnapshotOf(ctx context.Context, name, version string) (*Snapshot, error) {
	var out Snapshot
	cl := call{method: http.MethodGet, path: pathVersion, params: map[string]string{"name": name, "version": version}, idempotent: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, fmt.Errorf("the server's answer about %s %s has no snapshot_id", name, version)
	}
	return &out, nil
}

// writeFilePart adds a file part with mime/multipart's CreateFormFile, as
// upstream does: form-data with name and filename, Content-Type
// application/octet-stream.
func writeFilePart(w *multipart.Writer, field, fileName string, data []byte) error {
	if fileName == "" {
		return errors.New("a file to upload needs a name")
	}
	part, err := w.CreateFormFile(field, fileName)
	if err != nil {
		return err
	}
	_, err = part.Write(data)
	return err
}
