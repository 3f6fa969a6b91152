// Package tokconfig reads what a Hugging Face model directory says about its tokenizer beyond
// tokenizer.json: the special tokens' texts, add_bos_token/add_eos_token and the chat template(s).
//
// Files, in a model directory:
//   - tokenizer_config.json: bos_token, eos_token, unk_token, pad_token, sep_token, cls_token,
//     mask_token (each a string, null or an object with "content"), add_bos_token, add_eos_token, and
//     chat_template — a string, or a list of {"name": ..., "template": ...} (named templates);
//   - chat_template.jinja: the template that newer transformers versions save on its own; it is the
//     "default" template and takes precedence over tokenizer_config.json's;
//   - chat_template.json ({"chat_template": "..."}, written by processors): read only when neither
//     of the above has a default template.
//
// A missing tokenizer_config.json is not an error (the Config is then empty apart from templates
// found in the other files). This package knows nothing of Jinja: templates are returned as text.
package tokconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultTemplate is the name of the template used when none is asked for (Hugging Face's choice too).
const DefaultTemplate = "default"

// specialKeys are the tokenizer_config.json keys of single special tokens, in Hugging Face's order.
var specialKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}

// Config is what tokenizer_config.json (and the chat template files beside it) say.
type Config struct {
	// Path is the tokenizer_config.json read ("" when there was none).
	Path string
	// Special maps the special-token keys present (bos_token, eos_token, ...) to their texts; a null
	// token is absent.
	Special map[string]string
	// AddBOS and AddEOS are add_bos_token and add_eos_token, nil when not given.
	AddBOS, AddEOS *bool
	// Templates maps template names to Jinja sources; a single template is named DefaultTemplate.
	Templates map[string]string
	// TemplateFiles maps each template name to the file it came from (for error messages).
	TemplateFiles map[string]string
}

// Read reads the tokenizer configuration of a model directory (see the package comment).
func Read(dir string) (*Config, error) {
	c := &Config{Special: map[string]string{}, Templates: map[string]string{}, TemplateFiles: map[string]string{}}
	path := filepath.Join(dir, "tokenizer_config.json")
	switch raw, err := os.ReadFile(path); {
	case err == nil:
		parsed, err := Parse(raw, path)
		if err != nil {
			return nil, err
		}
		c = parsed
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("tokconfig: %w", err)
	}
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	switch raw, err := os.ReadFile(jinjaPath); {
	case err == nil:
		c.setTemplate(DefaultTemplate, string(raw), jinjaPath)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("tokconfig: %w", err)
	}
	if _, ok := c.Templates[DefaultTemplate]; !ok {
		jsonPath := filepath.Join(dir, "chat_template.json")
		switch raw, err := os.ReadFile(jsonPath); {
		case err == nil:
			var f struct {
				ChatTemplate *string `json:"chat_template"`
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fmt.Errorf("tokconfig %s: %w", jsonPath, err)
			}
			if f.ChatTemplate != nil {
				c.setTemplate(DefaultTemplate, *f.ChatTemplate, jsonPath)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("tokconfig: %w", err)
		}
	}
	return c, nil
}

// Parse reads the contents of a tokenizer_config.json; name (usually its path) appears in errors.
func Parse(data []byte, name string) (*Config, error) {
	c := &Config{Path: name, Special: map[string]string{}, Templates: map[string]string{}, TemplateFiles: map[string]string{}}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("tokconfig %s: %w", name, err)
	}
	for _, k := range specialKeys {
		v, ok := raw[k]
		if !ok {
			continue
		}
		text, present, err := tokenText(v)
		if err != nil {
			return nil, fmt.Errorf("tokconfig %s: %s: %w", name, k, err)
		}
		if present {
			c.Special[k] = text
		}
	}
	for _, f := range []struct {
		key string
		dst **bool
	}{{"add_bos_token", &c.AddBOS}, {"add_eos_token", &c.AddEOS}} {
		v, ok := raw[f.key]
		if !ok || isNull(v) {
			continue
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("tokconfig %s: %s: want true or false, have %s", name, f.key, clip(v))
		}
		*f.dst = &b
	}
	if v, ok := raw["chat_template"]; ok && !isNull(v) {
		if err := c.parseTemplates(v, name); err != nil {
			return nil, fmt.Errorf("tokconfig %s: chat_template: %w", name, err)
		}
	}
	return c, nil
}

// parseTemplates reads chat_template: a string, or a list of {"name", "template"} objects.
func (c *Config) parseTemplates(v json.RawMessage, file string) error {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		c.setTemplate(DefaultTemplate, s, file)
		return nil
	}
	var list []struct {
		Name     *string `json:"name"`
		Template *string `json:"template"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return fmt.Errorf("want a string or a list of {\"name\", \"template\"} objects, have %s", clip(v))
	}
	for i, t := range list {
		if t.Name == nil || t.Template == nil {
			return fmt.Errorf("entry %d needs both \"name\" and \"template\"", i)
		}
		if _, dup := c.Templates[*t.Name]; dup {
			return fmt.Errorf("template %q is given twice", *t.Name)
		}
		c.setTemplate(*t.Name, *t.Template, file)
	}
	return nil
}

func (c *Config) setTemplate(name, src, file string) {
	c.Templates[name] = src
	c.TemplateFiles[name] = file
}

// ChatTemplate returns the Jinja source of the named template (DefaultTemplate when name is "")
// and the file it came from. ok is false when the directory has no chat template at all; a
// missing name among named templates is an error that lists the names there are.
func (c *Config) ChatTemplate(name string) (src, file string, ok bool, err error) {
	if name == "" {
		name = DefaultTemplate
	}
	if len(c.Templates) == 0 {
		return "", "", false, nil
	}
	src, found := c.Templates[name]
	if !found {
		names := make([]string, 0, len(c.Templates))
		for n := range c.Templates {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", "", false, fmt.Errorf("tokconfig: no chat template named %q (the model has %s)", name, strings.Join(names, ", "))
	}
	return src, c.TemplateFiles[name], true, nil
}

// TemplateVars returns the special tokens' texts as chat templates see them (bos_token, eos_token,
// ...), as Hugging Face's apply_chat_template passes its special_tokens_map.
func (c *Config) TemplateVars() map[string]string {
	vars := make(map[string]string, len(c.Special))
	for k, v := range c.Special {
		vars[k] = v
	}
	return vars
}

// tokenText reads a token: null (present = false), "text", or {"content": "text", ...}.
func tokenText(v json.RawMessage) (text string, present bool, err error) {
	if isNull(v) {
		return "", false, nil
	}
	if err := json.Unmarshal(v, &text); err == nil {
		return text, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return "", false, fmt.Errorf("want a string, null or an object with \"content\", have %s", clip(v))
	}
	return *obj.Content, true, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// clip shortens a JSON value for an error message.
func clip(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
