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
	var (
		line      = 1
		flow      = 0 // depth of flow collections ([ {)
		block     [maxPolicyDepth + 1]int
		nblock    = 0     // block collections open: their indentation in block[:nblock]
		single    = false // in a 'quoted' string
		double    = false // in a "quoted" string
		scalarAt  = -1    // in a block scalar (| >): the indentation of its parent line
		scalarInd = -1    // the indentation of the block scalar's content, once known
	)
	tooDeep := func() *PolicyError {
		return &PolicyError{Source: source, Line: line, Msg: fmt.Sprintf("nested more than %d levels deep: want a flatter document", maxPolicyDepth)}
	}
	for start := 0; start < len(data); line++ {
		end := start
		for end < len(data) && data[end] != '\n' {
			end++
		}
		l := data[start:end]
		start = end + 1
		i := 0
		nodeStart := false
		if !single && !double && flow == 0 {
			for i < len(l) && l[i] == ' ' {
				i++
			}
			if i == len(l) || l[i] == '#' || l[i] == '\r' {
				continue // blank or comment line
			}
			if scalarAt >= 0 {
				if scalarInd < 0 && i > scalarAt {
					scalarInd = i
				}
				if scalarInd >= 0 && i >= scalarInd {
					continue // content of the block scalar
				}
				scalarAt, scalarInd = -1, -1
			}
			indent := i
			for nblock > 0 && block[nblock-1] > indent {
				nblock--
			}
			if nblock == 0 || block[nblock-1] < indent {
				if nblock == maxPolicyDepth {
					return tooDeep()
				}
				block[nblock] = indent
				nblock++
			}
			// Compact sequences ("- - x", "- a: b") open a level per "- ".
			for i+1 < len(l) && l[i] == '-' && (l[i+1] == ' ' || l[i+1] == '\t') || i+1 == len(l) && l[i] == '-' {
				i++
				for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
					i++
				}
				if nblock == maxPolicyDepth {
					return tooDeep()
				}
				block[nblock] = i
				nblock++
			}
			nodeStart = true
		}
		for ; i < len(l); i++ {
			c := l[i]
			switch {
			case double:
				if c == '\\' {
					i++
				} else if c == '"' {
					double = false
				}
				continue
			case single:
				if c == '\'' {
					if i+1 < len(l) && l[i+1] == '\'' {
						i++
					} else {
						single = false
					}
				}
				continue
			}
			next := byte(' ')
			if i+1 < len(l) {
				next = l[i+1]
			}
			spaceNext := next == ' ' || next == '\t' || next == '\r'
			switch c {
			case ' ', '\t', '\r':
				continue
			case '#':
				if i == 0 || l[i-1] == ' ' || l[i-1] == '\t' {
					i = len(l) // a comment to the end of the line
					continue
				}
			case '"':
				if nodeStart {
					double = true
				}
			case '\'':
				if nodeStart {
					single = true
				}
			case '[', '{':
				if nodeStart || flow > 0 {
					flow++
					if nblock+flow > maxPolicyDepth {
						return tooDeep()
					}
					nodeStart = true
					continue
				}
			case ']', '}':
				if flow > 0 {
					flow--
				}
			case ',':
				if flow > 0 {
					nodeStart = true
					continue
				}
			case '&', '*':
				if nodeStart {
					return &PolicyError{Source: source, Line: line, Msg: "YAML anchors (&name) and aliases (*name) are not supported: write the value out, and quote a value that starts with & or *"}
				}
			case '!':
				if nodeStart { // a tag: the node starts after it
					for i+1 < len(l) && l[i+1] != ' ' && l[i+1] != '\t' {
						i++
					}
					continue
				}
			case ':':
				if spaceNext || flow > 0 && (next == ',' || next == ']' || next == '}') {
					nodeStart = true // a value starts
					continue
				}
			case '-', '?':
				if nodeStart && spaceNext {
					continue // a sequence entry or a key starts
				}
			case '|', '>':
				if nodeStart && flow == 0 {
					scalarAt, scalarInd = block[max(nblock-1, 0)], -1
					i = len(l) // indicators and a comment
					continue
				}
			}
			nodeStart = false
		}
	}
	return nil
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
