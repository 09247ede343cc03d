package lint

import (
	"net/url"
	"path"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// SARIF 2.1.0, the parts GitHub code scanning reads. Field names follow the
// specification (https://docs.oasis-open.org/sarif/sarif/v2.1.0/).
const (
	// SARIFVersion is the version of the format.
	SARIFVersion = "2.1.0"
	// SARIFSchema is the JSON schema of the format.
	SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"
)

// SARIFLog is a SARIF document: one run of the linter.
type SARIFLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is the run of one tool.
type SARIFRun struct {
	Tool    SARIFTool     `json:"tool"`
	Results []SARIFResult `json:"results"`
}

// SARIFTool describes the linter.
type SARIFTool struct {
	Driver SARIFDriver `json:"driver"`
}

// SARIFDriver is the linter and its rules.
type SARIFDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []SARIFRule `json:"rules"`
}

// SARIFRule describes one rule.
type SARIFRule struct {
	ID                   string             `json:"id"`
	ShortDescription     SARIFText          `json:"shortDescription"`
	FullDescription      SARIFText          `json:"fullDescription"`
	Help                 SARIFText          `json:"help"`
	DefaultConfiguration SARIFConfiguration `json:"defaultConfiguration"`
	Properties           map[string]any     `json:"properties,omitempty"`
}

// SARIFText is a plain-text message.
type SARIFText struct {
	Text string `json:"text"`
}

// SARIFConfiguration is a rule's default level.
type SARIFConfiguration struct {
	Level string `json:"level"`
}

// SARIFResult is one finding.
type SARIFResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   SARIFText       `json:"message"`
	Locations []SARIFLocation `json:"locations"`
}

// SARIFLocation is where a finding is.
type SARIFLocation struct {
	PhysicalLocation SARIFPhysicalLocation `json:"physicalLocation"`
}

// SARIFPhysicalLocation is a file and, when known, a region of it.
type SARIFPhysicalLocation struct {
	ArtifactLocation SARIFArtifactLocation `json:"artifactLocation"`
	Region           *SARIFRegion          `json:"region,omitempty"`
}

// SARIFArtifactLocation names a file by a relative, slash-separated URI.
type SARIFArtifactLocation struct {
	URI string `json:"uri"`
}

// SARIFRegion is a position in a file; SARIF requires startLine >= 1 and
// startColumn >= 1 when present.
type SARIFRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// SARIFInput is the findings of one extension for NewSARIF.
type SARIFInput struct {
	// Root is the extension's path relative to the repository (the current
	// directory), slash-separated.
	Root string
	// Package is true when Root is a .tgz: file paths inside it are not
	// files of the repository, so findings point at the archive.
	Package  bool
	Findings diag.List
}

// SARIFLevel maps a severity to a SARIF level.
func SARIFLevel(s diag.Severity) string {
	switch s {
	case diag.Error:
		return "error"
	case diag.Warning:
		return "warning"
	}
	return "note"
}

// NewSARIF builds the SARIF document of a lint run: every rule, and every
// finding located by a URI relative to the repository.
func NewSARIF(version, informationURI string, inputs []SARIFInput) *SARIFLog {
	driver := SARIFDriver{Name: "ksbuilder", Version: version, InformationURI: informationURI}
	index := map[string]int{}
	for i, r := range Rules() {
		index[r.ID] = i
		driver.Rules = append(driver.Rules, SARIFRule{
			ID:                   r.ID,
			ShortDescription:     SARIFText{Text: r.Description},
			FullDescription:      SARIFText{Text: r.Description + " (" + r.Source + ")"},
			Help:                 SARIFText{Text: "Severity " + r.Severity.String() + ": " + r.Reason + ". See docs/lint.md."},
			DefaultConfiguration: SARIFConfiguration{Level: SARIFLevel(r.Severity)},
			Properties:           map[string]any{"tags": []string{string(r.Group)}},
		})
	}
	results := []SARIFResult{}
	for _, in := range inputs {
		for _, d := range in.Findings {
			results = append(results, sarifResult(in, d, index))
		}
	}
	return &SARIFLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []SARIFRun{{Tool: SARIFTool{Driver: driver}, Results: results}}}
}

func sarifResult(in SARIFInput, d diag.Diagnostic, index map[string]int) SARIFResult {
	msg := d.Message
	if d.Field != "" {
		msg = d.Field + ": " + msg
	}
	if d.Hint != "" {
		msg += " (" + d.Hint + ")"
	}
	loc := SARIFPhysicalLocation{}
	switch {
	case in.Package:
		loc.ArtifactLocation.URI = joinURI(in.Root, "")
		if d.File != "" {
			msg = d.File + ": " + msg
		}
	case d.File == "":
		// Findings about the whole package point at its metadata.
		loc.ArtifactLocation.URI = joinURI(in.Root, "extension.yaml")
	default:
		loc.ArtifactLocation.URI = joinURI(in.Root, d.File)
		if d.Line > 0 {
			loc.Region = &SARIFRegion{StartLine: d.Line}
			if d.Column > 0 {
				loc.Region.StartColumn = d.Column
			}
		}
	}
	i, ok := index[d.Code]
	if !ok {
		i = -1
	}
	return SARIFResult{RuleID: d.Code, RuleIndex: i, Level: SARIFLevel(d.Severity), Message: SARIFText{Text: msg},
		Locations: []SARIFLocation{{PhysicalLocation: loc}}}
}

// joinURI joins slash-separated paths into a clean relative URI, escaped
// as a URI path.
func joinURI(root, file string) string {
	return (&url.URL{Path: path.Clean(path.Join(root, file))}).EscapedPath()
}
