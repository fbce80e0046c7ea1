package report

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
)

// SARIF writes SARIF 2.1.0, for code-scanning dashboards: one rule per
// article, one result per finding, located at the object's file and line.
// An object that could not be decided is an error-level result of the rule
// DecisionErrorRule at the object's first line, naming the error: code
// scanning shows results, not a run's notifications.
type SARIF struct{}

// DecisionErrorRule is the SARIF rule of the objects that could not be
// decided. A charter article id never holds a slash.
const DecisionErrorRule = "charter/decision-error"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	ShortDescription sarifText         `json:"shortDescription"`
	FullDescription  *sarifText        `json:"fullDescription,omitempty"`
	Default          sarifDefault      `json:"defaultConfiguration"`
	Properties       map[string]string `json:"properties,omitempty"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	Physical sarifPhysical  `json:"physicalLocation"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(action string) string {
	switch action {
	case "deny":
		return "error"
	case "warn":
		return "warning"
	}
	return "note"
}

func (x SARIF) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(x.Stream(w, p), results)
}

// Stream writes the rules first and then each finding as it comes: the
// bytes are those of encoding the whole log at once.
func (SARIF) Stream(w io.Writer, p Policy) Stream {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "charter", Version: p.Version, InformationURI: "https://github.com/charter-dev/charter", Rules: []sarifRule{}}}, Results: []sarifResult{}}
	ids := make([]string, 0, len(p.Articles))
	for id := range p.Articles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := p.Articles[id]
		r := sarifRule{ID: id, Name: a.Title, ShortDescription: sarifText{a.Title}, Default: sarifDefault{sarifLevel(a.Action)}, Properties: map[string]string{"severity": a.Severity, "charter": p.Name}}
		if a.Description != "" {
			r.FullDescription = &sarifText{a.Description}
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, r)
	}
	// The rules come before the first result: this one is always there.
	run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: DecisionErrorRule, Name: "Decision error",
		ShortDescription: sarifText{"The object could not be decided"},
		FullDescription:  &sarifText{"Evaluating the charter on this object failed (the message names the error): it was neither allowed nor denied, and charter exited 2."},
		Default:          sarifDefault{"error"}, Properties: map[string]string{"charter": p.Name}})
	// results is the run's last field and the run the log's last: the
	// last "results" of the document.
	return sarifStream{newArrayStream(w, sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}, "results")}
}

type sarifStream struct{ a *arrayStream }

func (s sarifStream) Add(res Result) error {
	if res.Error != "" {
		l := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifact{URI: fileURI(res.File)}}, Logical: []sarifLogical{{FullyQualifiedName: objectName(res), Kind: "object"}}}
		if res.Line > 0 {
			l.Physical.Region = &sarifRegion{StartLine: res.Line}
		}
		return s.a.add(sarifResult{RuleID: DecisionErrorRule, Level: "error", Message: sarifText{"could not decide " + objectName(res) + ": " + res.Error}, Locations: []sarifLocation{l}})
	}
	for _, v := range res.Violations {
		l := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifact{URI: fileURI(res.File)}}}
		switch {
		case v.Line > 0:
			l.Physical.Region = &sarifRegion{StartLine: v.Line, StartColumn: v.Column}
		case res.Line > 0:
			l.Physical.Region = &sarifRegion{StartLine: res.Line}
		}
		name := objectName(res)
		if v.Path != "" {
			name += "." + v.Path
		}
		l.Logical = []sarifLogical{{FullyQualifiedName: name, Kind: "object"}}
		if err := s.a.add(sarifResult{RuleID: v.Article, Level: sarifLevel(v.Action), Message: sarifText{v.Message}, Locations: []sarifLocation{l}}); err != nil {
			return err
		}
	}
	return nil
}

func (s sarifStream) Close() error { return s.a.close() }

// fileURI is a file name as a relative (or absolute-path) URI reference:
// each segment escaped, so a space or "<stdin>" stays a valid reference.
func fileURI(name string) string {
	segs := strings.Split(filepath.ToSlash(name), "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A") // a colon would read as a scheme
	}
	return strings.Join(segs, "/")
}

// objectName is kind/namespace/name, or kind/name for cluster-scoped objects.
func objectName(r Result) string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
}
