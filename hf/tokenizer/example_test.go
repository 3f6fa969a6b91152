package tokenizer_test

import (
	"fmt"

	"github.com/eva-lora/eva/hf/tokenizer"
)

// A SentencePiece-style tokenizer (like Llama 2's) trained on the test texts: "<s>" is added in
// front with addSpecial, and characters outside its vocabulary become byte tokens.
func Example() {
	tok, err := tokenizer.Load("../../testdata/tokenizer/tiny/tiny_sp.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.Encode("In the beginning 中", true)
	var pieces []string
	for _, id := range ids {
		s, _ := tok.IDToToken(id)
		pieces = append(pieces, s)
	}
	fmt.Println(ids)
	fmt.Printf("%q\n", pieces)
	fmt.Printf("%q\n", tok.Decode(ids, false))
	fmt.Printf("%q\n", tok.Decode(ids, true))
	bos, _ := tok.BOS()
	fmt.Println("BOS", bos)
	// Output:
	// [1 747 359 591 346 231 187 176]
	// ["<s>" "▁In" "▁the" "▁beginning" "▁" "<0xE4>" "<0xB8>" "<0xAD>"]
	// "<s> In the beginning 中"
	// "In the beginning 中"
	// BOS 1
}
