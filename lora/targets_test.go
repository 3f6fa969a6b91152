package lora

import (
	"slices"
	"strings"
	"testing"

	"github.com/eva-lora/eva/nn"
)

func layers() []*nn.Linear {
	var ls []*nn.Linear
	for _, n := range []string{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj"} {
		ls = append(ls, &nn.Linear{Name: n, Block: int(n[13] - '0')})
	}
	return append(ls, &nn.Linear{Name: "lm_head", Block: -1})
}

func TestSelectTargets(t *testing.T) {
	cases := map[string][]string{
		"q_proj": {"model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"},
		"all-linear": {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
			"model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj"},
		"all-linear,lm_head":              {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj", "lm_head"},
		"down_proj, k_proj":               {"model.layers.0.self_attn.k_proj", "model.layers.0.mlp.down_proj"},
		"re:model\\.layers\\.1\\..*":      {"model.layers.1.self_attn.q_proj"},
		"model.layers.0.self_attn.q_proj": {"model.layers.0.self_attn.q_proj"},
	}
	for spec, want := range cases {
		got, err := SelectTargets(layers(), spec)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %v (%v), want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "o_proj", "q_proj,nothing", "re:q_proj", "re:("} {
		if _, err := SelectTargets(layers(), bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if bad == "o_proj" && !strings.Contains(err.Error(), "o_proj") {
			t.Errorf("error %v does not name the target", err)
		}
	}
	// "proj" is not a suffix after a dot: suffix matching works on whole name components.
	if _, err := SelectTargets(layers(), "proj"); err == nil {
		t.Error("partial component matched")
	}
}
