package lint

import (
	"fmt"
	"strings"
	"text/template/parse"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// shape is what lint needs of one message text: the fields its template
// uses ({{.name}}) and its text with every action left out, which is how it
// reads with its placeholders empty.
type shape struct {
	fields map[string]bool
	plain  string
}

// parseText reads text as the go-i18n template it is, with m's delimiters.
func parseText(m *i18n.Message, text string) (shape, error) {
	left, right := m.LeftDelim, m.RightDelim
	if left == "" {
		left = "{{"
	}
	if right == "" {
		right = "}}"
	}
	if !strings.Contains(text, left) {
		return shape{plain: text}, nil
	}
	t := parse.New(m.ID)
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(text, left, right, map[string]*parse.Tree{}); err != nil {
		return shape{}, fmt.Errorf("parse template: %w", err)
	}
	s := shape{fields: map[string]bool{}}
	var b strings.Builder
	walk(t.Root, s.fields, &b)
	s.plain = b.String()
	return s, nil
}

// walk collects the fields a template node uses and its literal text, of
// every branch.
func walk(n parse.Node, fields map[string]bool, b *strings.Builder) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fields, b)
		}
	case *parse.TextNode:
		b.Write(n.Text)
	case *parse.ActionNode:
		walk(n.Pipe, fields, b)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fields, b)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fields, b)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fields, b)
	case *parse.TemplateNode:
		walk(n.Pipe, fields, b)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, fields, b)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, fields, b)
		}
	case *parse.ChainNode:
		walk(n.Node, fields, b)
	case *parse.FieldNode:
		fields[n.Ident[0]] = true
	}
}

func walkBranch(n *parse.BranchNode, fields map[string]bool, b *strings.Builder) {
	walk(n.Pipe, fields, b)
	walk(n.List, fields, b)
	walk(n.ElseList, fields, b)
}

// shapes parses every form of m. It returns the fields of all forms
// together and each form's plain text.
func shapes(m *i18n.Message) (fields map[string]bool, plains []string, err error) {
	fields = map[string]bool{}
	for _, text := range texts(m) {
		s, err := parseText(m, text)
		if err != nil {
			return nil, nil, err
		}
		for f := range s.fields {
			fields[f] = true
		}
		plains = append(plains, s.plain)
	}
	return fields, plains, nil
}
