package extension

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// iconTypes are the image types an icon may have, as sniffed from its
// content.
var iconTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/x-icon": true, "image/bmp": true, "image/avif": true, "image/svg+xml": true,
}

// IconType returns the MIME type of an icon, judged from its content (not
// its name): only images are taken, and an SVG must hold no active content
// (scripts, event handlers, javascript: URLs, embedded HTML), since the
// console and the marketplace render it.
func IconType(data []byte) (string, error) {
	if svg, err := sniffSVG(data); svg {
		if err != nil {
			return "", err
		}
		return "image/svg+xml", nil
	}
	if len(data) >= 12 && string(data[4:8]) == "ftyp" && (string(data[8:12]) == "avif" || string(data[8:12]) == "avis") {
		return "image/avif", nil // ISO media, which Go does not sniff
	}
	mime, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !iconTypes[mime] {
		return "", fmt.Errorf("the content is %s, not an image (PNG, JPEG, GIF, WebP, ICO, BMP, AVIF or SVG)", mime)
	}
	return mime, nil
}

// sniffSVG reports whether data is XML whose root element is <svg>, and
// the first piece of active content in it.
func sniffSVG(data []byte) (bool, error) {
	trimmed := bytes.TrimLeftFunc(bytes.TrimPrefix(data, utf8BOM), unicode.IsSpace)
	if !bytes.HasPrefix(trimmed, []byte("<")) {
		return false, nil
	}
	dec := xml.NewDecoder(bytes.NewReader(trimmed))
	dec.Strict = true
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return seenRoot, nil
		}
		if err != nil {
			if !seenRoot {
				return false, nil
			}
			return true, fmt.Errorf("the SVG is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !seenRoot {
				if !strings.EqualFold(t.Name.Local, "svg") {
					return false, nil
				}
				seenRoot = true
			}
			if err := checkSVGElement(t); err != nil {
				return true, err
			}
		case xml.CharData:
			if seenRoot && activeURL(string(t)) {
				return true, fmt.Errorf("the SVG holds a script URL in its text; remove it")
			}
		case xml.Directive:
			if bytes.Contains(bytes.ToUpper(t), []byte("<!ENTITY")) {
				return true, fmt.Errorf("the SVG declares XML entities; remove the DOCTYPE's entity declarations")
			}
		}
	}
}

// activeElements run code or embed documents when an SVG is rendered inline.
var activeElements = map[string]bool{
	"script": true, "foreignobject": true, "iframe": true, "embed": true, "object": true, "handler": true, "listener": true,
}

func checkSVGElement(e xml.StartElement) error {
	name := strings.ToLower(e.Name.Local)
	if activeElements[name] {
		return fmt.Errorf("the SVG holds a <%s> element (active content the console would run); remove it", e.Name.Local)
	}
	for _, a := range e.Attr {
		attr := strings.ToLower(a.Name.Local)
		if strings.HasPrefix(attr, "on") {
			return fmt.Errorf("the SVG has an event handler (%s on <%s>); remove it", a.Name.Local, e.Name.Local)
		}
		if activeURL(a.Value) {
			return fmt.Errorf("the SVG has a script URL (%s on <%s>); remove it", a.Name.Local, e.Name.Local)
		}
	}
	return nil
}

// activeURL reports whether s holds a URL that runs code, however spaced
// or cased.
func activeURL(s string) bool {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
	return strings.Contains(s, "javascript:") || strings.Contains(s, "vbscript:") || strings.Contains(s, "data:text/html")
}

// decodeDataURI returns the content of a base64 data URI and its declared
// MIME type.
func decodeDataURI(uri string) (mime string, data []byte, err error) {
	if len(uri) < 5 || !strings.EqualFold(uri[:5], "data:") {
		return "", nil, errors.New("not a data URI")
	}
	rest := uri[5:]
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, errors.New("the data URI has no comma before its data")
	}
	mime, _, _ = strings.Cut(meta, ";")
	if !strings.HasSuffix(meta, ";base64") {
		text, err := url.PathUnescape(payload)
		return mime, []byte(text), err
	}
	data, err = base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return mime, nil, fmt.Errorf("the data URI's base64 is not valid: %v", err)
	}
	return mime, data, nil
}

// checkIcon checks the content of the icon: a local file's, or an inline
// data URI's.
func (v *validator) checkIcon(ref string, files FileSet) {
	var data []byte
	switch {
	case IsLocal(ref):
		p, err := LocalPath(ref)
		if err != nil {
			return // reported by localFile
		}
		var ok bool
		if data, ok = files.Read(p); !ok {
			return
		}
	case len(ref) >= 5 && strings.EqualFold(ref[:5], "data:"):
		mime, content, err := decodeDataURI(ref)
		if err != nil {
			v.add(diag.Error, CodeIconFile, "icon", "encode the image as data:image/png;base64,...", "%v", err)
			return
		}
		if !iconTypes[strings.ToLower(mime)] {
			v.add(diag.Error, CodeIconFile, "icon", iconHint, "the data URI's type is %q, not an image", mime)
			return
		}
		data = content
	default:
		return
	}
	if _, err := IconType(data); err != nil {
		v.add(diag.Error, CodeIconFile, "icon", iconHint, "%v", err)
	}
}

const iconHint = "use a PNG, JPEG or plain SVG image"
