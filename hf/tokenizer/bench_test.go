package tokenizer

import (
	"path/filepath"
	"testing"
)

// BenchmarkEncode measures encoding throughput (MB/s) on about 300 KB of text: the test texts
// repeated, so after the first pass most words come from the word cache. The nocache runs empty the
// cache before every pass.
func BenchmarkEncode(b *testing.B) {
	text := benchText(loadTexts(b), 300_000)
	for _, name := range []string{"gpt2", "llama2", "llama3", "qwen3", "tiny_bl"} {
		for _, cached := range []bool{true, false} {
			label := name
			if !cached {
				label += "/nocache"
			}
			b.Run(label, func(b *testing.B) {
				tok := benchTokenizer(b, name)
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					if !cached {
						tok.model.cache.mu.Lock()
						tok.model.cache.words = nil
						tok.model.cache.mu.Unlock()
					}
					tok.Encode(text, false)
				}
			})
		}
	}
}

// BenchmarkDecode measures decoding throughput in bytes of text produced per second.
func BenchmarkDecode(b *testing.B) {
	text := benchText(loadTexts(b), 300_000)
	for _, name := range []string{"llama2", "llama3"} {
		b.Run(name, func(b *testing.B) {
			tok := benchTokenizer(b, name)
			ids := tok.Encode(text, false)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Decode(ids, false)
			}
		})
	}
}

// BenchmarkLoad measures reading Llama 3's 9 MB tokenizer.json.
func BenchmarkLoad(b *testing.B) {
	path := npmTokenizerPath(b, "llama3")
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func benchTokenizer(b *testing.B, name string) *Tokenizer {
	b.Helper()
	path := filepath.Join(testdataDir(b), "tiny", name+".json")
	if name != "tiny_bl" {
		path = npmTokenizerPath(b, name)
	}
	tok, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}
