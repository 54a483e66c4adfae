package authflow

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadTerraformSettings reads only terraform.path from the configuration
// file at path, for commands that need no credentials (terraform version,
// fmt, validate): they must stay cheap and must not fail on problems in
// the auth: section, which Load reports when credentials are needed. An
// atmos.yaml never sets terraform.path for tfauth.
func LoadTerraformSettings(path string) (TerraformSettings, error) {
	if IsAtmosFile(path) {
		return TerraformSettings{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return TerraformSettings{}, fmt.Errorf("read the configuration %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return TerraformSettings{}, fmt.Errorf("read the configuration %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return TerraformSettings{}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p := &parser{file: path}
		p.syntaxError(data, err)
		return TerraformSettings{}, p.errs
	}
	if len(doc.Content) == 0 {
		return TerraformSettings{}, nil
	}
	v := mappingValue(mappingValue(doc.Content[0], "terraform"), "path")
	if v == nil || v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
		return TerraformSettings{}, nil
	}
	return TerraformSettings{Path: resolveTerraformPath(path, v.Value), Line: v.Line}, nil
}

// mappingValue returns the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// resolveTerraformPath makes terraform.path v absolute: "~/" is the home
// directory, and a relative path is relative to the configuration file.
func resolveTerraformPath(file, v string) string {
	if rest, ok := strings.CutPrefix(v, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			v = filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(filepath.Dir(file), v)
	}
	return v
}
