package extension

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// MetadataEdit lists changes to make to extension.yaml.
type MetadataEdit struct {
	// Icon replaces the icon's value when not empty.
	Icon string
	// Screenshots replaces screenshots by index.
	Screenshots map[int]string
	// Remove deletes top-level keys.
	Remove []string
}

// EditMetadata applies edits to extension.yaml and returns the new file.
// It edits the YAML node tree, so comments, key order and the style of
// untouched values are kept; the document is re-indented with two spaces.
// The head comment of a removed key moves to the key that follows it.
func EditMetadata(data []byte, edit MetadataEdit) ([]byte, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", MetadataFile, err)
		}
		docs = append(docs, &doc)
	}
	if len(docs) == 0 || content(docs[0]) == nil || content(docs[0]).Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the document is not a mapping", MetadataFile)
	}
	root := content(docs[0])
	if edit.Icon != "" {
		i := mappingIndex(root, "icon")
		if i < 0 {
			return nil, fmt.Errorf("%s: no icon to replace", MetadataFile)
		}
		setString(detach(docs, root, i), edit.Icon)
	}
	if len(edit.Screenshots) > 0 {
		var seq *yaml.Node
		if i := mappingIndex(root, "screenshots"); i >= 0 {
			seq = detach(docs, root, i)
		}
		if seq == nil || seq.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s: screenshots is not a list", MetadataFile)
		}
		for i, v := range edit.Screenshots {
			if i < 0 || i >= len(seq.Content) {
				return nil, fmt.Errorf("%s: no screenshots[%d]", MetadataFile, i)
			}
			setString(detach(docs, seq, i), v)
		}
	}
	for _, key := range edit.Remove {
		removeKey(root, key)
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, doc := range docs {
		spellNulls(doc)
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// spellNulls writes "null" into empty nulls: yaml.v3 emits an anchored
// one ("[&a]") or one in a flow mapping ("{k}") as a quoted empty string.
func spellNulls(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Value == "" && n.ShortTag() == "!!null" {
		n.Value = "null"
	}
	for _, c := range n.Content {
		spellNulls(c)
	}
}

// mappingIndex returns the index in m.Content of the value of a key, or -1.
func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i + 1
		}
	}
	return -1
}

// detach makes parent.Content[i] a node that can be changed without
// changing any other value, keeping the document's anchors valid: an alias
// is replaced by a copy of the node it names, and the uses of the node's
// own anchor get copies of it before the anchor is dropped.
func detach(docs []*yaml.Node, parent *yaml.Node, i int) *yaml.Node {
	n := parent.Content[i]
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return n
		}
		c := copyNode(n.Alias)
		c.HeadComment, c.LineComment, c.FootComment = n.HeadComment, n.LineComment, n.FootComment
		parent.Content[i] = c
		return c
	}
	if n.Anchor != "" {
		for _, doc := range docs {
			replaceAliases(doc, n)
		}
		n.Anchor = ""
	}
	return n
}

// replaceAliases replaces, under n, each alias of target by a copy of it.
func replaceAliases(n, target *yaml.Node) {
	for i, c := range n.Content {
		if c.Kind == yaml.AliasNode && c.Alias == target {
			cp := copyNode(target)
			cp.HeadComment, cp.LineComment, cp.FootComment = c.HeadComment, c.LineComment, c.FootComment
			n.Content[i] = cp
			continue
		}
		replaceAliases(c, target)
	}
}

// copyNode copies a node and what it holds, without its anchors; aliases
// inside stay aliases (their anchors come earlier in the document), so the
// copy is no larger than the original.
func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Anchor = ""
	if n.Kind == yaml.AliasNode {
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = copyNode(child)
	}
	return &c
}

// setString makes n a string scalar, keeping its quoting style and comments.
func setString(n *yaml.Node, value string) {
	style := n.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", value, style
	n.Content, n.Alias, n.Anchor = nil, nil, ""
}

// removeKey deletes a key from a mapping, handing its head comment to the
// next key.
func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		if head := m.Content[i].HeadComment; head != "" && i+2 < len(m.Content) {
			next := m.Content[i+2]
			if next.HeadComment != "" {
				head += "\n" + next.HeadComment
			}
			next.HeadComment = head
		}
		m.Content = append(m.Content[:i], m.Content[i+2:]...)
		return
	}
}
