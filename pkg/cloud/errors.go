package cloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// APIError is an answer from the server with a non-2xx status.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's explanation: the "message" of a JSON error
	// body, else the first line of text in the body (HTML tags removed),
	// made printable and capped (safetext.Line).
	Message string
}

// Error returns "HTTP 403 Forbidden: permission denied".
func (e *APIError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsUnauthorized reports whether err is the server refusing the token
// (HTTP 401).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is the server refusing the operation to
// this account (HTTP 403).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsNotFound reports whether err is an HTTP 404 from the server.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

func hasStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// maxMessageLen bounds, in bytes, a message taken from a non-JSON body.
const maxMessageLen = 200

func newAPIError(status int, body []byte) *APIError {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && strings.TrimSpace(m.Message) != "" {
		return &APIError{Status: status, Message: safetext.Line(strings.TrimSpace(m.Message), safetext.MaxLen)}
	}
	return &APIError{Status: status, Message: safetext.Line(firstLine(body), maxMessageLen)}
}

var (
	htmlTagRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })
	htmlHeadRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`) })
)

// firstLine returns the first non-blank line of a body, with HTML tags
// removed.
func firstLine(body []byte) string {
	text := string(bytes.ToValidUTF8(body, []byte("?")))
	if strings.HasPrefix(strings.TrimSpace(text), "<") {
		text = htmlHeadRe().ReplaceAllString(text, "")
		text = htmlTagRe().ReplaceAllString(text, "\n")
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		return line
	}
	return ""
}

// decodeJSON decodes a JSON answer.
func decodeJSON(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body, expected JSON")
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("the JSON is truncated")
		}
		return err
	}
	return nil
}
