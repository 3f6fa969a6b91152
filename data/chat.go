package data

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ardanlabs/jinja"
)

// FallbackTemplate is the chat template used for a model that has none: an optional bos_token,
// then for each message "<|ROLE|>\n" + content + eos_token + "\n" (Zephyr's layout); the
// assistant's content and its eos_token are what is learned. With add_generation_prompt it ends in
// "<|assistant|>\n".
const FallbackTemplate = `{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\n' }}` +
	`{% if message['role'] == 'assistant' %}{% generation %}{{ (message['content'] or '') + eos_token }}{% endgeneration %}` +
	`{% else %}{{ (message['content'] or '') + eos_token }}{% endif %}{{ '\n' }}{% endfor %}` +
	`{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}`

// Span is a byte range [Start, End) of a rendered conversation.
type Span struct{ Start, End int }

// ChatTemplate renders conversations with a model's Jinja chat template, as Hugging Face's
// apply_chat_template does (Jinja2 with trim_blocks and lstrip_blocks, raise_exception,
// strftime_now, the special tokens' texts as variables), through github.com/ardanlabs/jinja.
// It is safe for concurrent use.
type ChatTemplate struct {
	name       string
	tmpl       *jinja.Template
	vars       map[string]jinja.Value
	generation bool
	fallback   bool
}

// NewChatTemplate compiles a chat template. name (usually the file it came from) appears in
// errors; vars are the special tokens' texts (bos_token, eos_token, ...), as
// tokconfig.Config.TemplateVars returns them.
func NewChatTemplate(name, source string, vars map[string]string) (*ChatTemplate, error) {
	if strings.TrimSpace(source) == "" {
		return nil, fmt.Errorf("chat template %s: the template is empty", name)
	}
	return compileChat(name, source, vars, false)
}

// FallbackChatTemplate returns FallbackTemplate with the given special tokens' texts (bos_token and
// eos_token may be missing: they are then empty).
func FallbackChatTemplate(vars map[string]string) *ChatTemplate {
	v := map[string]string{"bos_token": "", "eos_token": ""}
	for k, s := range vars {
		v[k] = s
	}
	c, err := compileChat("(fallback)", FallbackTemplate, v, true)
	if err != nil {
		panic("data: the fallback chat template does not compile: " + err.Error())
	}
	return c
}

func compileChat(name, source string, vars map[string]string, fallback bool) (c *ChatTemplate, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("chat template %s: the template engine failed: %v", name, r)
		}
	}()
	norm, err := normalizeTemplate(source)
	if err != nil {
		return nil, fmt.Errorf("chat template %s: %w", name, err)
	}
	if err := checkMacroRecursion(norm.src); err != nil {
		return nil, fmt.Errorf("chat template %s: %w", name, err)
	}
	t, err := jinja.Compile(norm.src)
	if err != nil {
		return nil, fmt.Errorf("chat template %s: %w", name, err)
	}
	c = &ChatTemplate{name: name, tmpl: t, vars: map[string]jinja.Value{"range": sandboxRange}, generation: norm.generation, fallback: fallback}
	for k, v := range vars {
		c.vars[k] = jinja.NewString(v)
	}
	return c, nil
}

// Name is the name given to NewChatTemplate ("(fallback)" for the fallback template).
func (c *ChatTemplate) Name() string { return c.name }

// IsFallback reports whether this is FallbackTemplate.
func (c *ChatTemplate) IsFallback() bool { return c.fallback }

// Render renders the conversation (its assistant marks removed), with the generation prompt when
// addGenerationPrompt.
func (c *ChatTemplate) Render(conv *Conversation, addGenerationPrompt bool) (string, error) {
	out, err := c.render(conv, conv.Len(), addGenerationPrompt)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer(genStart, "", genEnd, "").Replace(out), nil
}

// render renders the first n messages; the output keeps the generation marks.
func (c *ChatTemplate) render(conv *Conversation, n int, agp bool) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("chat template %s: the template engine failed: %v", c.name, r)
		}
	}()
	msgs, tools, err := conv.values(n)
	if err != nil {
		return "", err
	}
	data := make(map[string]jinja.Value, len(c.vars)+3)
	for k, v := range c.vars {
		data[k] = v
	}
	data["messages"] = msgs
	data["add_generation_prompt"] = jinja.NewBool(agp)
	if tools != nil {
		data["tools"] = *tools
	}
	out, err = c.tmpl.RenderValues(data)
	if err != nil {
		return "", fmt.Errorf("chat template %s: %w", c.name, err)
	}
	return out, nil
}

// AssistantSpans renders the conversation and returns the text with the byte spans that are
// learned: the assistant turns.
//
// A template with {% generation %} blocks marks them itself (Hugging Face's
// return_assistant_tokens_mask). Otherwise, for each assistant message i, the span starts where
// the first i messages rendered with the generation prompt end — that text must be a prefix of the
// whole rendering — and covers what the template writes for message i: its content and the turn's
// closing markup (such as <|im_end|> or <|eot_id|>), up to where the next message starts. The
// turn is read from messages[:i+1] rendered on their own; when the template writes a message
// differently once later messages follow (Qwen3 drops the reasoning of earlier turns), the span is
// the longest end of that turn that the whole rendering repeats.
func (c *ChatTemplate) AssistantSpans(conv *Conversation) (string, []Span, error) {
	if c.generation {
		return c.markedSpans(conv)
	}
	full, err := c.render(conv, conv.Len(), false)
	if err != nil {
		return "", nil, err
	}
	var spans []Span
	for i := range conv.Len() {
		if conv.Role(i) != "assistant" {
			continue
		}
		prompt, err := c.render(conv, i, true)
		if err != nil {
			return "", nil, fmt.Errorf("rendering messages[:%d] with the generation prompt: %w", i, err)
		}
		if !strings.HasPrefix(full, prompt) {
			return "", nil, fmt.Errorf("chat template %s: messages[:%d] rendered with the generation prompt are not the start of the whole conversation, so the assistant's turn %d cannot be found (mark it with {%% generation %%} in the template)", c.name, i, i)
		}
		turn, err := c.render(conv, i+1, false)
		if err != nil {
			return "", nil, fmt.Errorf("rendering messages[:%d]: %w", i+1, err)
		}
		if !strings.HasPrefix(turn, prompt) {
			return "", nil, fmt.Errorf("chat template %s: messages[:%d] rendered with the generation prompt are not the start of messages[:%d], so the assistant's turn %d cannot be found (mark it with {%% generation %%} in the template)", c.name, i, i+1, i)
		}
		if err := c.checkPromptAfterTurn(conv, i, prompt, turn[len(prompt):]); err != nil {
			return "", nil, err
		}
		k := overlap(turn[len(prompt):], full[len(prompt):])
		if k == 0 {
			return "", nil, fmt.Errorf("chat template %s: the assistant's turn %d is written differently once later messages follow; mark it with {%% generation %%} in the template", c.name, i)
		}
		spans = append(spans, Span{len(prompt), len(prompt) + k})
	}
	return full, spans, nil
}

// checkPromptAfterTurn refuses a template that writes the generation prompt whether or not it is
// asked for (an early Llama 3 template does): the turn rendered on its own would then end with the
// next turn's header, which must not be learned. Such a template renders messages[:i] the same
// with and without the generation prompt, and the prompt and the turn end alike.
func (c *ChatTemplate) checkPromptAfterTurn(conv *Conversation, i int, prompt, turn string) error {
	if commonSuffix(prompt, turn) == 0 {
		return nil
	}
	plain, err := c.render(conv, i, false)
	if err != nil {
		return fmt.Errorf("rendering messages[:%d]: %w", i, err)
	}
	if plain != prompt {
		return nil
	}
	return fmt.Errorf("chat template %s writes the same text after every message, with or without add_generation_prompt, so the assistant's turn %d cannot be told from the next turn's header; use a template that honours add_generation_prompt or mark the turn with {%% generation %%}", c.name, i)
}

// commonSuffix is the length of the longest common suffix of a and b.
func commonSuffix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	return n
}

// markedSpans renders once and reads the spans from the generation marks.
func (c *ChatTemplate) markedSpans(conv *Conversation) (string, []Span, error) {
	out, err := c.render(conv, conv.Len(), false)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	var spans []Span
	open := -1
	for len(out) > 0 {
		i := strings.Index(out, "\x00eva:")
		if i < 0 {
			b.WriteString(out)
			break
		}
		b.WriteString(out[:i])
		out = out[i:]
		switch {
		case strings.HasPrefix(out, genStart) && open < 0:
			open = b.Len()
			out = out[len(genStart):]
		case strings.HasPrefix(out, genEnd) && open >= 0:
			if b.Len() > open {
				spans = append(spans, Span{open, b.Len()})
			}
			open = -1
			out = out[len(genEnd):]
		default:
			return "", nil, fmt.Errorf("chat template %s: {%% generation %%} blocks are nested or unbalanced", c.name)
		}
	}
	if open >= 0 {
		return "", nil, fmt.Errorf("chat template %s: a {%% generation %%} block is not closed", c.name)
	}
	if len(spans) == 0 {
		return "", nil, errors.New("chat template " + c.name + ": the template marks no assistant text with {% generation %}")
	}
	return b.String(), spans, nil
}

// overlap is the length of the longest end of a that b starts with.
func overlap(a, b string) int {
	for k := min(len(a), len(b)); k > 0; k-- {
		if a[len(a)-k:] == b[:k] {
			return k
		}
	}
	return 0
}
