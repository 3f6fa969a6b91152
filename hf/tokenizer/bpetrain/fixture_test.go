package bpetrain

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eva-lora/eva/hf/tokenizer"
)

// The fixture in testdata/bpetrain: a vocabulary of 400 trained on corpus.jsonl (our own text), the
// written files in tokenizer/, eva's ids for texts.json in eva_ids.json, and hf_reference.json from
// scripts/check_bpe_tokenizer.py: Hugging Face's ids for the texts (tokenizers' Tokenizer.from_file
// and transformers' AutoTokenizer) and the merges of Hugging Face's own BpeTrainer on the corpus.
//
// Regenerate the Go side with `go test ./hf/tokenizer/bpetrain -run Fixture -update`, then rerun
// the script where tokenizers and transformers are installed.

var update = flag.Bool("update", false, "rewrite testdata/bpetrain from the trainer")

const fixtureDir = "testdata/bpetrain"

var fixtureOptions = Options{VocabSize: 400, MinFrequency: 2, SpecialTokens: []string{EndOfText, PadToken}}

var fixtureFileOptions = FileOptions{Pad: PadToken, ModelMaxLength: 512}

// hfReference mirrors hf_reference.json.
type hfReference struct {
	TokenizersVersion   string           `json:"tokenizers_version"`
	TransformersVersion string           `json:"transformers_version"`
	IDs                 [][]int32        `json:"ids"`
	AutoIDs             [][]int32        `json:"auto_ids"`
	Decoded             []string         `json:"decoded"`
	TrainedVocab        map[string]int32 `json:"trained_vocab"`
	TrainedMerges       [][2]string      `json:"trained_merges"`
}

// TestFixtureUpToDate retrains the fixture and expects the committed files byte for byte, so the
// files Hugging Face was checked on are the ones the trainer writes today.
func TestFixtureUpToDate(t *testing.T) {
	root := filepath.Join(repoRoot(t), fixtureDir)
	wc, err := CountJSONL([]string{filepath.Join(root, "corpus.jsonl")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(wc, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Vocab) != fixtureOptions.VocabSize {
		t.Fatalf("trained %d tokens", len(m.Vocab))
	}
	tmp := filepath.Join(t.TempDir(), "tokenizer")
	if *update {
		tmp = filepath.Join(root, "tokenizer")
	}
	if err := m.WriteDir(tmp, fixtureFileOptions); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(filepath.Join(tmp, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	readJSON(t, filepath.Join(fixtureDir, "texts.json"), &texts)
	ids := make([][]int32, len(texts))
	for i, text := range texts {
		ids[i] = tok.Encode(text, true)
	}
	if *update {
		data, err := json.Marshal(ids)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "eva_ids.json"), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range TokenizerFiles {
		got, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(root, "tokenizer", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from the committed fixture (run with -update and recheck with Hugging Face)", name)
		}
	}
	var stored [][]int32
	readJSON(t, filepath.Join(fixtureDir, "eva_ids.json"), &stored)
	if !slices.EqualFunc(ids, stored, slices.Equal) {
		t.Error("eva_ids.json differs from today's encoding")
	}
}

// TestFixtureMatchesHuggingFace compares eva with Hugging Face on the fixture: the ids of every text
// (Tokenizer.from_file and AutoTokenizer both, on the files eva wrote) and the vocabulary and merges
// that Hugging Face's BpeTrainer learned from the same corpus.
func TestFixtureMatchesHuggingFace(t *testing.T) {
	var ref hfReference
	readJSON(t, filepath.Join(fixtureDir, "hf_reference.json"), &ref)
	var texts []string
	readJSON(t, filepath.Join(fixtureDir, "texts.json"), &texts)
	if len(ref.IDs) != len(texts) || len(ref.AutoIDs) != len(texts) || len(ref.Decoded) != len(texts) {
		t.Fatalf("hf_reference.json has %d/%d/%d entries for %d texts", len(ref.IDs), len(ref.AutoIDs), len(ref.Decoded), len(texts))
	}
	tok, err := tokenizer.Load(filepath.Join(repoRoot(t), fixtureDir, "tokenizer", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		got := tok.Encode(text, true)
		if !slices.Equal(got, ref.IDs[i]) {
			t.Errorf("text %d %q: eva %v, tokenizers %s %v", i, text, got, ref.TokenizersVersion, ref.IDs[i])
		}
		if !slices.Equal(got, ref.AutoIDs[i]) {
			t.Errorf("text %d %q: eva %v, AutoTokenizer (transformers %s) %v", i, text, got, ref.TransformersVersion, ref.AutoIDs[i])
		}
		if ref.Decoded[i] != text || tok.Decode(got, false) != text {
			t.Errorf("text %d %q: decoded by Hugging Face as %q, by eva as %q", i, text, ref.Decoded[i], tok.Decode(got, false))
		}
	}
	wc, err := CountJSONL([]string{filepath.Join(repoRoot(t), fixtureDir, "corpus.jsonl")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(wc, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.TrainedMerges) != len(m.Merges) {
		t.Errorf("Hugging Face learned %d merges, eva %d", len(ref.TrainedMerges), len(m.Merges))
	}
	for i := range min(len(ref.TrainedMerges), len(m.Merges)) {
		if p := ref.TrainedMerges[i]; p[0] != m.Merges[i].Left || p[1] != m.Merges[i].Right {
			t.Fatalf("merge %d: Hugging Face %q, eva %q %q", i, p, m.Merges[i].Left, m.Merges[i].Right)
		}
	}
	if len(ref.TrainedVocab) != len(m.Vocab) {
		t.Errorf("Hugging Face vocabulary %d tokens, eva %d", len(ref.TrainedVocab), len(m.Vocab))
	}
	for id, tok := range m.Vocab {
		if hid, ok := ref.TrainedVocab[tok]; !ok || hid != int32(id) {
			t.Fatalf("token %q: eva id %d, Hugging Face %d (present %v)", tok, id, hid, ok)
		}
	}
}
