package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// samOnlyProperties are properties of AWS::Serverless::Function that
// goformation v7 does not know (it rejects unknown properties). Load drops
// them from the typed view; Template.Raw keeps them.
var samOnlyProperties = []string{"LoggingConfig", "RecursiveLoop", "RuntimeManagementConfig", "SnapStart"}

// newTableProperty is a property of AWS::DynamoDB::Table, and of each of
// its global secondary indexes, newer than goformation v7: Load drops it
// from the typed view too.
const newTableProperty = "WarmThroughput"

// Template is a CloudFormation or SAM template read two ways.
type Template struct {
	// Path is the file the template was read from.
	Path string
	// Raw is the template as written, with short-form intrinsic functions
	// in their long form: !Ref X is {"Ref": "X"}, !GetAtt X.Arn is
	// {"Fn::GetAtt": "X.Arn"}, !Sub s is {"Fn::Sub": "s"}. Numbers are
	// float64, as encoding/json decodes them.
	Raw map[string]any
	// Typed is goformation's view, with intrinsic functions resolved
	// against the parameters' defaults (references to resources resolve
	// to nothing).
	Typed *cloudformation.Template
}

// Load reads a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	rawJSON, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t := &Template{Path: path}
	if err := json.Unmarshal(rawJSON, &t.Raw); err != nil {
		return nil, fmt.Errorf("template %s: want a mapping at the top: %w", path, err)
	}

	resolved, err := intrinsics.ProcessYAML(data, nil)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	var tree map[string]any
	if err := json.Unmarshal(resolved, &tree); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	resources, _ := tree["Resources"].(map[string]any)
	for _, r := range resources {
		r, _ := r.(map[string]any)
		if r["Type"] == "AWS::DynamoDB::Table" {
			dropTableProperty(r)
			continue
		}
		if r["Type"] != "AWS::Serverless::Function" {
			continue
		}
		if props, ok := r["Properties"].(map[string]any); ok {
			for _, p := range samOnlyProperties {
				delete(props, p)
			}
			// Ref to a Number parameter is a string in CloudFormation;
			// goformation gives the default's number.
			if env, ok := props["Environment"].(map[string]any); ok {
				if vars, ok := env["Variables"].(map[string]any); ok {
					for k, v := range vars {
						if f, ok := v.(float64); ok {
							vars[k] = strconv.FormatFloat(f, 'f', -1, 64)
						}
					}
				}
			}
		}
	}
	stripped, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t.Typed = &cloudformation.Template{}
	if err := json.Unmarshal(stripped, t.Typed); err != nil {
		return nil, fmt.Errorf("template %s: goformation: %w", path, err)
	}
	return t, nil
}

// Resource returns the type and the raw properties of a resource.
func (t *Template) Resource(name string) (typ string, props map[string]any, err error) {
	resources, _ := t.Raw["Resources"].(map[string]any)
	r, ok := resources[name].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("%s: no resource %s", filepath.Base(t.Path), name)
	}
	typ, _ = r["Type"].(string)
	props, _ = r["Properties"].(map[string]any)
	return typ, props, nil
}

// ResourcesOfType returns the names and raw definitions (Type,
// Properties, Condition, ...) of the resources of a type.
func (t *Template) ResourcesOfType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	resources, _ := t.Raw["Resources"].(map[string]any)
	for name, r := range resources {
		if r, ok := r.(map[string]any); ok && r["Type"] == typ {
			out[name] = r
		}
	}
	return out
}

// RepoRoot returns the module's root directory: the nearest directory
// above the working directory that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// dropTableProperty removes newTableProperty from a table resource and
// its global secondary indexes.
func dropTableProperty(r map[string]any) {
	props, _ := r["Properties"].(map[string]any)
	delete(props, newTableProperty)
	gsis, _ := props["GlobalSecondaryIndexes"].([]any)
	for _, g := range gsis {
		if g, ok := g.(map[string]any); ok {
			delete(g, newTableProperty)
		}
	}
}
