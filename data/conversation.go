package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Message is one chat message built in Go (a JSONL line may carry more keys; see ParseConversation).
type Message struct {
	// Role is "system", "user", "assistant", "tool", ...
	Role string `json:"role"`
	// Content is the message's text.
	Content string `json:"content"`
}

// Conversation is the messages (and tools) of a "messages" line, kept as JSON so that every render
// gets fresh values with the keys in their original order (as Python's dicts keep them).
type Conversation struct {
	msgs  []json.RawMessage
	roles []string
	tools json.RawMessage // nil: none
}

// NewConversation builds a conversation from Go messages; it checks them as ParseConversation does.
func NewConversation(msgs ...Message) (*Conversation, error) {
	raw, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	return parseConversation(raw, nil)
}

// ParseConversation reads the "messages" list (and the optional "tools" list, which may be nil) of a
// JSONL line. Each message must be an object with a string "role" and a string "content" (content
// may be null or missing on an assistant message with "tool_calls"); other keys are passed to the
// template as they are. At least one assistant message must have something to learn.
func ParseConversation(messages, tools json.RawMessage) (*Conversation, error) {
	return parseConversation(messages, tools)
}

func parseConversation(messages, tools json.RawMessage) (*Conversation, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(messages, &list); err != nil || list == nil {
		return nil, fmt.Errorf(`"messages" must be a list of objects, have %s`, clipJSON(messages))
	}
	if len(list) == 0 {
		return nil, errors.New(`"messages" is empty`)
	}
	c := &Conversation{msgs: list, roles: make([]string, len(list))}
	learn := false
	for i, m := range list {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(m, &fields); err != nil || fields == nil {
			return nil, fmt.Errorf("messages[%d] must be an object, have %s", i, clipJSON(m))
		}
		var role string
		if err := json.Unmarshal(fields["role"], &role); err != nil || role == "" {
			return nil, fmt.Errorf(`messages[%d] needs a "role" string, have %s`, i, clipJSON(fields["role"]))
		}
		c.roles[i] = role
		var content *string
		if raw, ok := fields["content"]; ok && !isJSONNull(raw) {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf(`messages[%d] (%s): "content" must be a string, have %s`, i, role, clipJSON(raw))
			}
			content = &s
		}
		calls := fields["tool_calls"]
		hasCalls := len(calls) > 0 && !isJSONNull(calls) && string(bytes.TrimSpace(calls)) != "[]"
		switch {
		case content == nil && !(role == "assistant" && hasCalls):
			return nil, fmt.Errorf(`messages[%d] (%s) needs a "content" string`, i, role)
		case role == "assistant" && (hasCalls || *content != ""):
			learn = true
		case role == "assistant":
			return nil, fmt.Errorf(`messages[%d]: the assistant's "content" is empty`, i)
		}
		if bytes.Contains(m, []byte(`\u0000eva:`)) {
			return nil, fmt.Errorf("messages[%d] contains the reserved text \\u0000eva:", i)
		}
	}
	if !learn {
		return nil, errors.New(`"messages" has no assistant message: there is nothing to learn`)
	}
	if len(tools) > 0 && !isJSONNull(tools) {
		var l []json.RawMessage
		if err := json.Unmarshal(tools, &l); err != nil {
			return nil, fmt.Errorf(`"tools" must be a list, have %s`, clipJSON(tools))
		}
		c.tools = tools
	}
	return c, nil
}

// Len is the number of messages.
func (c *Conversation) Len() int { return len(c.msgs) }

// Role is the role of message i.
func (c *Conversation) Role(i int) string { return c.roles[i] }

// values returns the first n messages (and the tools, or nil) as template values.
func (c *Conversation) values(n int) (msgs jinja.Value, tools *jinja.Value, err error) {
	items := make([]jinja.Value, n)
	for i := range n {
		if items[i], err = jsonValue(c.msgs[i]); err != nil {
			return jinja.Value{}, nil, err
		}
	}
	if c.tools != nil {
		t, err := jsonValue(c.tools)
		if err != nil {
			return jinja.Value{}, nil, err
		}
		tools = &t
	}
	return jinja.NewList(items), tools, nil
}

// jsonValue converts JSON to a template value, keeping the order of object keys; integers stay
// integers (so tojson writes them back unchanged).
func jsonValue(raw json.RawMessage) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Value{}, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return jinja.NewList(items), err
		case '{':
			d := jinja.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jinja.Value{}, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Value{}, err
				}
				d.AsDict().Set(k.(string), v)
			}
			_, err := dec.Token()
			return d, err
		}
		return jinja.Value{}, fmt.Errorf("unexpected %v", t)
	default:
		// nil, bool, string and json.Number convert as the engine converts them.
		return jinja.FromGoValue(t), nil
	}
}

func isJSONNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// clipJSON shortens a JSON value for an error message.
func clipJSON(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "nothing"
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
