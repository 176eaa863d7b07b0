package rules

import (
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/ast"
)

// A policy is configuration, but it may come from anywhere (a file, an
// environment variable), and the YAML library does not protect itself: its
// parser takes time and memory that grow with the square of the nesting
// depth (10,000 nested brackets: 0.7 s and 158 MB; 100,000: 100 s and
// 14 GB), and aliases expand to any size (a 549-byte "billion laughs"
// document used 3.6 GB in the library's decoder). So a document is refused
// before it reaches the parser when it is too large, nested too deep, or
// uses anchors or aliases, which a policy never needs. The pre-scan reads
// each byte once and allocates nothing.

const (
	// maxPolicySize bounds the documents LoadPolicy and LoadPolicyFile
	// read: a policy with thousands of waivers fits; the parser needs
	// about 0.25 s and 40 MB for the largest.
	maxPolicySize = 256 << 10
	// maxPolicyDepth bounds the nesting of collections, block and flow
	// style together. The deepest key of a policy
	// (overrides.N.rules.ID.required_fields.N) is 7 levels deep.
	maxPolicyDepth = 32
)

// LoadPolicyFile reads and validates the policy file at path. It reads at
// most the size limit (256 KiB), so a device or an endless pipe is refused,
// not read to the end.
func LoadPolicyFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	// Regular files and pipes (--policy /dev/stdin, <(...)) are read;
	// devices, directories and sockets are not documents.
	if t := fi.Mode().Type(); t&^(os.ModeNamedPipe|os.ModeSymlink) != 0 {
		return nil, &PolicyError{Source: path, Msg: fmt.Sprintf("%s, not a file: want a policy document of at most %d bytes", fileKind(t), maxPolicySize)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	if len(data) > maxPolicySize {
		return nil, &PolicyError{Source: path, Msg: fmt.Sprintf("document is larger than %d bytes: want at most %d", maxPolicySize, maxPolicySize)}
	}
	return LoadPolicy(data, path)
}

// fileKind names a file type for errors.
func fileKind(t os.FileMode) string {
	switch {
	case t&os.ModeDir != 0:
		return "a directory"
	case t&os.ModeCharDevice != 0:
		return "a character device"
	case t&os.ModeDevice != 0:
		return "a device"
	case t&os.ModeSocket != 0:
		return "a socket"
	default:
		return "an irregular file"
	}
}

// checkShape refuses, before parsing, a document nested deeper than
// maxPolicyDepth or holding an anchor (&name) or an alias (*name). It
// follows YAML closely enough to know where a node starts (where & and *
// are anchors and aliases, not characters of a glob such as tmp-*) and
// skips quoted strings, comments and block scalars; where it is unsure it
// errs towards refusing. It returns a PolicyError or nil.
func checkShape(data []byte, source string) *PolicyError {
	s := shapeScan{source: source, line: 1, scalarAt: -1, scalarInd: -1}
	for start := 0; start < len(data); s.line++ {
		end := start
		for end < len(data) && data[end] != '\n' {
			end++
		}
		if err := s.scanLine(data[start:end]); err != nil {
			return err
		}
		start = end + 1
	}
	return nil
}

// shapeScan is checkShape's state between lines.
type shapeScan struct {
	source    string
	line      int
	flow      int // depth of flow collections ([ {)
	block     [maxPolicyDepth + 1]int
	nblock    int  // block collections open: their indentation in block[:nblock]
	single    bool // in a 'quoted' string
	double    bool // in a "quoted" string
	scalarAt  int  // in a block scalar (| >): the indentation of its parent line
	scalarInd int  // the indentation of the block scalar's content, once known
}

func (s *shapeScan) tooDeep() *PolicyError {
	return &PolicyError{Source: s.source, Line: s.line, Msg: fmt.Sprintf("nested more than %d levels deep: want a flatter document", maxPolicyDepth)}
}

// scanLine follows one line: its indentation when it starts outside a
// string or a flow collection, then its characters.
func (s *shapeScan) scanLine(l []byte) *PolicyError {
	i, nodeStart := 0, false
	if !s.single && !s.double && s.flow == 0 {
		var skip bool
		var err *PolicyError
		if i, skip, err = s.indentation(l); skip || err != nil {
			return err
		}
		nodeStart = true
	}
	for ; i < len(l); i++ {
		if s.single || s.double {
			i = s.quoted(l, i)
			continue
		}
		var err *PolicyError
		if i, nodeStart, err = s.token(l, i, nodeStart); err != nil {
			return err
		}
	}
	return nil
}

// indentation opens and closes the block collections a line's
// indentation and leading "- " entries say, and returns where the line's
// first node starts; skip is set for a line with no node (blank, a
// comment, the content of a block scalar).
func (s *shapeScan) indentation(l []byte) (i int, skip bool, err *PolicyError) {
	for i < len(l) && l[i] == ' ' {
		i++
	}
	if i == len(l) || l[i] == '#' || l[i] == '\r' {
		return i, true, nil // blank or comment line
	}
	if s.scalarAt >= 0 {
		if s.scalarInd < 0 && i > s.scalarAt {
			s.scalarInd = i
		}
		if s.scalarInd >= 0 && i >= s.scalarInd {
			return i, true, nil // content of the block scalar
		}
		s.scalarAt, s.scalarInd = -1, -1
	}
	indent := i
	for s.nblock > 0 && s.block[s.nblock-1] > indent {
		s.nblock--
	}
	if s.nblock == 0 || s.block[s.nblock-1] < indent {
		if err := s.open(indent); err != nil {
			return i, false, err
		}
	}
	// Compact sequences ("- - x", "- a: b") open a level per "- ".
	for i+1 < len(l) && l[i] == '-' && (l[i+1] == ' ' || l[i+1] == '\t') || i+1 == len(l) && l[i] == '-' {
		i++
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		if err := s.open(i); err != nil {
			return i, false, err
		}
	}
	return i, false, nil
}

// open opens a block collection at indentation indent.
func (s *shapeScan) open(indent int) *PolicyError {
	if s.nblock == maxPolicyDepth {
		return s.tooDeep()
	}
	s.block[s.nblock] = indent
	s.nblock++
	return nil
}

// quoted follows a quoted string at l[i] and returns the index of the
// last character it consumed.
func (s *shapeScan) quoted(l []byte, i int) int {
	c := l[i]
	switch {
	case s.double && c == '\\':
		i++
	case s.double && c == '"':
		s.double = false
	case s.single && c == '\'':
		if i+1 < len(l) && l[i+1] == '\'' {
			i++
		} else {
			s.single = false
		}
	}
	return i
}

// token reads the character at l[i], where a node starts when nodeStart
// is set, and returns the index of the last character it consumed and
// whether a node starts after it.
func (s *shapeScan) token(l []byte, i int, nodeStart bool) (int, bool, *PolicyError) {
	c := l[i]
	next := byte(' ')
	if i+1 < len(l) {
		next = l[i+1]
	}
	spaceNext := next == ' ' || next == '\t' || next == '\r'
	switch c {
	case ' ', '\t', '\r':
		return i, nodeStart, nil
	case '#':
		if i == 0 || l[i-1] == ' ' || l[i-1] == '\t' {
			return len(l), nodeStart, nil // a comment to the end of the line
		}
	case '"':
		s.double = s.double || nodeStart
	case '\'':
		s.single = s.single || nodeStart
	case '[', '{':
		if nodeStart || s.flow > 0 {
			s.flow++
			if s.nblock+s.flow > maxPolicyDepth {
				return i, false, s.tooDeep()
			}
			return i, true, nil
		}
	case ']', '}':
		s.flow = max(s.flow-1, 0)
	case ',':
		if s.flow > 0 {
			return i, true, nil
		}
	case '&', '*':
		if nodeStart {
			return i, false, &PolicyError{Source: s.source, Line: s.line, Msg: "YAML anchors (&name) and aliases (*name) are not supported: write the value out, and quote a value that starts with & or *"}
		}
	case '!':
		if nodeStart { // a tag: the node starts after it
			for i+1 < len(l) && l[i+1] != ' ' && l[i+1] != '\t' {
				i++
			}
			return i, true, nil
		}
	case ':':
		if spaceNext || s.flow > 0 && (next == ',' || next == ']' || next == '}') {
			return i, true, nil // a value starts
		}
	case '-', '?':
		if nodeStart && spaceNext {
			return i, true, nil // a sequence entry or a key starts
		}
	case '|', '>':
		if nodeStart && s.flow == 0 {
			s.scalarAt, s.scalarInd = s.block[max(s.nblock-1, 0)], -1
			return len(l), true, nil // indicators and a comment
		}
	}
	return i, false, nil
}

// checkNoAliases refuses a parsed document that holds an anchor or an
// alias, in case one got past checkShape: the conversion to policyDoc does
// not resolve them.
func checkNoAliases(n ast.Node, source string) *PolicyError {
	var found ast.Node
	ast.Walk(aliasFinder{&found}, n)
	if found == nil {
		return nil
	}
	pe := &PolicyError{Source: source, Msg: "YAML anchors (&name) and aliases (*name) are not supported: write the value out, and quote a value that starts with & or *"}
	if tk := found.GetToken(); tk != nil && tk.Position != nil {
		pe.Line = tk.Position.Line
	}
	return pe
}

type aliasFinder struct{ found *ast.Node }

func (f aliasFinder) Visit(n ast.Node) ast.Visitor {
	if *f.found != nil {
		return nil
	}
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		*f.found = n
		return nil
	}
	return f
}
