package config_test

import (
	"fmt"
	"log"

	"github.com/eva-lora/eva/hf/config"
)

func ExampleLoad() {
	c, err := config.Load("testdata/llama-3.2-1b.json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c)
	fmt.Println("tied:", c.TieWordEmbeddings, "rope:", c.RopeTheta, c.RopeScaling.Type, c.RopeScaling.Factor)
	// Output:
	// llama: 16 layers, hidden 2048, MLP 8192, 32 heads (8 kv) of 64, vocab 128256, context 131072
	// tied: true rope: 500000 llama3 32
}
