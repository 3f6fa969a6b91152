package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Encoder turns text into token ids (a tokenizer).
type Encoder interface {
	// Encode returns the ids of text, with the tokenizer's special tokens (such as BOS) when addSpecial.
	Encode(text string, addSpecial bool) ([]int32, error)
}

// SpecialTokens is what an Encoder may also tell (models.Tokenizer does, through hf/tokenizer):
// its EOS id, appended after completions and packed documents, and its BOS id.
type SpecialTokens interface {
	// EOS returns the end-of-sequence id, if the tokenizer has one.
	EOS() (int32, bool)
	// BOS returns the beginning-of-sequence id, if the tokenizer has one.
	BOS() (int32, bool)
}

// tokenTexts is what an Encoder may tell to fill the fallback chat template's bos_token and eos_token.
type tokenTexts interface {
	SpecialTokens
	IDToToken(id int32) (string, bool)
}

// Kind is the shape of the JSONL line an example came from.
type Kind uint8

const (
	// KindTokens is a pre-tokenised {"input_ids": ...} line (also the zero value).
	KindTokens Kind = iota
	// KindText is a {"text": ...} line, or a chunk packed from such lines.
	KindText
	// KindCompletion is a {"prompt": ..., "completion": ...} line.
	KindCompletion
	// KindChat is a {"messages": [...]} line.
	KindChat
)

// String names the kind by its JSON shape.
func (k Kind) String() string {
	switch k {
	case KindTokens:
		return "input_ids"
	case KindText:
		return "text"
	case KindCompletion:
		return "prompt/completion"
	case KindChat:
		return "messages"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Example is one tokenised sequence with its labels (nil = the ids themselves).
type Example struct {
	// IDs are the token ids.
	IDs []int32
	// Labels, when not nil, has one label per id (IgnoreIndex = no loss).
	Labels []int32
	// Kind is the shape of the line it came from.
	Kind Kind
}

// Options say how JSONL lines become examples.
type Options struct {
	// Encoder tokenises text; it may be nil when every line is pre-tokenised. When it also
	// implements SpecialTokens, its EOS is appended after each completion.
	Encoder Encoder
	// Chat renders "messages" lines. Nil means FallbackChatTemplate, with bos_token and eos_token
	// taken from the Encoder where it can tell them, and Warn says so once.
	Chat *ChatTemplate
	// Warn receives notes about the data (the fallback template, skipped empty texts); nil drops them.
	Warn func(msg string)
}

// ReadJSONL reads a JSONL file with Options{Encoder: enc} (see ReadFile).
func ReadJSONL(path string, enc Encoder) ([]Example, error) {
	return ReadFile(path, Options{Encoder: enc})
}

// ParseJSONL is ReadJSONL on a reader; errors name the line.
func ParseJSONL(r io.Reader, enc Encoder) ([]Example, error) {
	return Parse(r, Options{Encoder: enc})
}

// ReadFile reads a JSONL file of examples, one line each, in any of the shapes of the package
// comment; blank lines are skipped. Errors name the file and the line.
func ReadFile(path string, opt Options) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	exs, err := parse(f, opt, path+": ")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return exs, nil
}

// Parse is ReadFile on a reader; errors name the line.
func Parse(r io.Reader, opt Options) ([]Example, error) {
	return parse(r, opt, "")
}

// parse reads JSONL; notes about the data start with where. Lines are tokenised in parallel (the
// encoder must be safe for concurrent use, as hf/tokenizer's is); the examples keep file order.
func parse(r io.Reader, opt Options, where string) ([]Example, error) {
	p := &parser{opt: opt}
	br := bufio.NewReader(r)
	type numbered struct {
		n   int
		raw []byte
	}
	var lines []numbered
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
		}
		if t := bytes.TrimSpace(raw); len(t) > 0 {
			lines = append(lines, numbered{n, t})
		}
		if err != nil {
			break
		}
	}
	exs := make([]Example, len(lines))
	keep := make([]bool, len(lines))
	errs := make([]error, len(lines))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(lines)/64, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(lines); i = int(next.Add(1)) - 1 {
				exs[i], keep[i], errs[i] = p.line(lines[i].raw)
			}
		}()
	}
	wg.Wait()
	out := exs[:0]
	for i := range lines {
		if errs[i] != nil {
			return nil, fmt.Errorf("line %d: %w", lines[i].n, errs[i])
		}
		if keep[i] {
			out = append(out, exs[i])
		}
	}
	if n := p.emptyTexts.Load(); n > 0 {
		p.warn(fmt.Sprintf("%sskipped %d line(s) whose \"text\" is empty", where, n))
	}
	if len(out) == 0 {
		return nil, errors.New("no examples (the file is empty)")
	}
	return out, nil
}

// parser holds what one Parse call learns as it goes.
type parser struct {
	opt        Options
	chatOnce   sync.Once
	chat       *ChatTemplate // the template in use, once a "messages" line needed it
	emptyTexts atomic.Int64
}

func (p *parser) warn(msg string) {
	if p.opt.Warn != nil {
		p.opt.Warn(msg)
	}
}

// shapes are the keys that decide a line's shape, in the order errors list them.
var shapes = []string{"text", "prompt", "messages", "input_ids"}

// line turns one JSONL line into an example; keep is false for a line to skip.
func (p *parser) line(raw []byte) (ex Example, keep bool, err error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil {
		return Example{}, false, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return Example{}, false, errors.New("invalid JSON: more than one value on the line")
	}
	if fields == nil {
		return Example{}, false, errors.New("invalid JSON: the line is null, want an object")
	}
	var present []string
	for _, k := range shapes {
		if _, ok := fields[k]; ok {
			present = append(present, k)
		}
	}
	_, hasPrompt := fields["prompt"]
	if _, ok := fields["completion"]; ok && !hasPrompt {
		return Example{}, false, errors.New(`"completion" needs "prompt"`)
	}
	if _, ok := fields["labels"]; ok && (len(present) != 1 || present[0] != "input_ids") {
		msg := `"labels" needs "input_ids"`
		if len(present) > 0 {
			msg += ", not " + quoteList(present)
		}
		return Example{}, false, errors.New(msg)
	}
	switch len(present) {
	case 0:
		return Example{}, false, errors.New(`expected an object with "text", "prompt" and "completion", "messages", or "input_ids" (and "labels")`)
	case 1:
	default:
		return Example{}, false, fmt.Errorf("both %s given; a line has one shape", quoteList(present))
	}
	switch present[0] {
	case "text":
		var text string
		if err := json.Unmarshal(fields["text"], &text); err != nil {
			return Example{}, false, fmt.Errorf(`invalid JSON: "text" must be a string, have %s`, clipJSON(fields["text"]))
		}
		if text == "" {
			p.emptyTexts.Add(1)
			return Example{}, false, nil
		}
		ex, err := encodeText(p.opt.Encoder, text)
		return ex, err == nil, err
	case "prompt":
		ex, err := p.completion(fields)
		return ex, err == nil, err
	case "messages":
		ex, err := p.messages(fields)
		return ex, err == nil, err
	default:
		ex, err := tokensExample(fields["input_ids"], fields["labels"])
		return ex, err == nil, err
	}
}

// completion reads a {"prompt", "completion"} line.
func (p *parser) completion(fields map[string]json.RawMessage) (Example, error) {
	var pc [2]string
	for i, k := range []string{"prompt", "completion"} {
		raw, ok := fields[k]
		if !ok {
			return Example{}, fmt.Errorf(`%q needs %q`, "prompt", "completion")
		}
		if err := json.Unmarshal(raw, &pc[i]); err != nil {
			hint := ""
			if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
				hint = ` (for conversations use {"messages": [...]})`
			}
			return Example{}, fmt.Errorf(`invalid JSON: %q must be a string, have %s%s`, k, clipJSON(raw), hint)
		}
	}
	if pc[1] == "" {
		return Example{}, errors.New(`"completion" is empty: there is nothing to learn`)
	}
	return encodeCompletion(p.opt.Encoder, pc[0], pc[1])
}

// messages reads a {"messages": [...], "tools": [...]} line.
func (p *parser) messages(fields map[string]json.RawMessage) (Example, error) {
	conv, err := ParseConversation(fields["messages"], fields["tools"])
	if err != nil {
		return Example{}, err
	}
	if p.opt.Encoder == nil {
		return Example{}, errors.New(`"messages" needs a tokenizer (the model directory has no tokenizer.json)`)
	}
	p.chatOnce.Do(func() {
		p.chat = p.opt.Chat
		if p.chat == nil {
			p.chat = FallbackChatTemplate(fallbackVars(p.opt.Encoder))
		}
		if p.chat.IsFallback() {
			p.warn("the model has no chat template: \"messages\" lines use eva's fallback template (\"<|role|>\\n\" + content + eos_token + \"\\n\" per message)")
		}
	})
	return encodeChat(p.opt.Encoder, p.chat, conv)
}

// fallbackVars reads bos_token and eos_token from an encoder that can tell them.
func fallbackVars(enc Encoder) map[string]string {
	vars := map[string]string{}
	t, ok := enc.(tokenTexts)
	if !ok {
		return vars
	}
	for key, get := range map[string]func() (int32, bool){"bos_token": t.BOS, "eos_token": t.EOS} {
		if id, ok := get(); ok {
			if s, ok := t.IDToToken(id); ok {
				vars[key] = s
			}
		}
	}
	return vars
}

// tokensExample reads a pre-tokenised line.
func tokensExample(idsRaw, labelsRaw json.RawMessage) (Example, error) {
	var ids []int64
	if err := json.Unmarshal(idsRaw, &ids); err != nil {
		return Example{}, fmt.Errorf(`invalid JSON: "input_ids" must be a list of integers, have %s`, clipJSON(idsRaw))
	}
	if len(ids) == 0 {
		return Example{}, errors.New(`"input_ids" is empty`)
	}
	ex := Example{IDs: make([]int32, len(ids)), Kind: KindTokens}
	for i, v := range ids {
		if v < 0 || v > 1<<31-1 {
			return Example{}, fmt.Errorf("input_ids[%d] = %d is not a token id", i, v)
		}
		ex.IDs[i] = int32(v)
	}
	if labelsRaw == nil || isJSONNull(labelsRaw) {
		return ex, nil
	}
	var labels []int64
	if err := json.Unmarshal(labelsRaw, &labels); err != nil {
		return Example{}, fmt.Errorf(`invalid JSON: "labels" must be a list of integers, have %s`, clipJSON(labelsRaw))
	}
	if len(labels) != len(ex.IDs) {
		return Example{}, fmt.Errorf("%d labels for %d input_ids", len(labels), len(ex.IDs))
	}
	ex.Labels = make([]int32, len(ex.IDs))
	for i, v := range labels {
		if v != IgnoreIndex && (v < 0 || v > 1<<31-1) {
			return Example{}, fmt.Errorf("labels[%d] = %d is neither a token id nor -100", i, v)
		}
		ex.Labels[i] = int32(v)
	}
	return ex, nil
}

// quoteList writes keys as "a" and "b".
func quoteList(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = `"` + k + `"`
	}
	return strings.Join(q, " and ")
}
