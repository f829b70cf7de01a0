package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// GlobalFile is the name of the file that holds the global commands.
const GlobalFile = "commands.yaml"

// EmergencyFile is the name of the file that lists emergency numbers by
// country.
const EmergencyFile = "emergency.yaml"

type rawFlow struct {
	ID    string    `yaml:"id"`
	Start string    `yaml:"start"`
	Notes string    `yaml:"notes"`
	Nodes yaml.Node `yaml:"nodes"`
}

// Load reads every *.yaml file at the top of fsys: GlobalFile holds the
// global commands, every other file one flow. It reports syntax errors with
// their file and line; Check finds the mistakes in what loaded.
func Load(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	slices.Sort(names)
	s := &Set{Flows: map[string]*Flow{}}
	var errs []error
	haveGlobal := false
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read flow %s: %w", name, err)
		}
		s.Files = append(s.Files, name)
		if path.Base(name) == EmergencyFile {
			if err := decodeStrict(src, &s.Emergency); err != nil {
				errs = append(errs, fileError(name, err))
			}
			continue
		}
		if path.Base(name) == GlobalFile {
			haveGlobal = true
			if err := decodeStrict(src, &s.Global); err != nil {
				errs = append(errs, fileError(name, err))
			}
			s.Global.File = name
			continue
		}
		f, err := parseFlow(name, src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if old, dup := s.Flows[f.ID]; dup {
			errs = append(errs, Error{name, f.Line, fmt.Sprintf("flow %q is also defined in %s", f.ID, old.File)})
			continue
		}
		s.Flows[f.ID] = f
	}
	if !haveGlobal {
		errs = append(errs, fmt.Errorf("no %s: the global commands are missing", GlobalFile))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// ParseFlow reads one flow file.
func parseFlow(name string, src []byte) (*Flow, error) {
	var raw rawFlow
	if err := decodeStrict(src, &raw); err != nil {
		return nil, fileError(name, err)
	}
	f := &Flow{ID: raw.ID, Start: raw.Start, Notes: raw.Notes, File: name, Line: 1, Nodes: map[string]*Node{}}
	if f.ID == "" {
		return nil, Error{name, 1, "the flow has no id"}
	}
	if raw.Nodes.Kind != yaml.MappingNode {
		return nil, Error{name, max(raw.Nodes.Line, 1), "nodes must be a mapping of node IDs to nodes"}
	}
	for i := 0; i+1 < len(raw.Nodes.Content); i += 2 {
		key, val := raw.Nodes.Content[i], raw.Nodes.Content[i+1]
		n := &Node{}
		if err := val.Decode(n); err != nil {
			return nil, fileError(name, err)
		}
		n.ID = key.Value
		n.Line = key.Line
		if _, dup := f.Nodes[n.ID]; dup {
			return nil, Error{name, key.Line, fmt.Sprintf("node %q is defined twice", n.ID)}
		}
		f.Nodes[n.ID] = n
		f.Order = append(f.Order, n.ID)
	}
	if f.Start == "" && len(f.Order) > 0 {
		f.Start = f.Order[0]
	}
	return f, nil
}

// decodeStrict decodes one YAML document, refusing unknown fields so that a
// misspelt key is an error rather than a silently ignored line.
func decodeStrict(src []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// fileError turns a yaml error ("yaml: line 3: ...") into an Error.
func fileError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		errs := make([]error, len(te.Errors))
		for i, m := range te.Errors {
			errs[i] = lineError(name, m)
		}
		return errors.Join(errs...)
	}
	return lineError(name, err.Error())
}

func lineError(name, msg string) Error {
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return Error{name, max(line, 1), msg}
}
