package lora

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/eva-lora/eva/nn"
)

// AllLinear is the target specification that selects every Linear layer except the output head,
// as PEFT's "all-linear" does.
const AllLinear = "all-linear"

// SelectTargets returns, in module order, the names of the layers a target specification selects:
//   - "all-linear": every layer except lm_head (include it by naming it as well: "all-linear,lm_head");
//   - a comma-separated list of names, each matching a layer whose full name equals it or ends in
//     "." + name (PEFT's list semantics: "q_proj" matches "model.layers.0.self_attn.q_proj");
//   - "re:" followed by a regular expression that must match the whole name (PEFT's string semantics).
//
// Every list entry must match at least one layer.
func SelectTargets(layers []*nn.Linear, spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty target specification")
	}
	if expr, ok := strings.CutPrefix(spec, "re:"); ok {
		re, err := regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return nil, fmt.Errorf("target regex %q: %w", expr, err)
		}
		var names []string
		for _, l := range layers {
			if re.MatchString(l.Name) {
				names = append(names, l.Name)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("target regex %q matches no Linear layer", expr)
		}
		return names, nil
	}
	keys := strings.Split(spec, ",")
	used := make([]bool, len(keys))
	var names []string
	for _, l := range layers {
		for i, k := range keys {
			k = strings.TrimSpace(k)
			hit := k == l.Name || strings.HasSuffix(l.Name, "."+k) || (k == AllLinear && l.Block >= 0)
			if hit {
				used[i] = true
				names = append(names, l.Name)
				break
			}
		}
	}
	for i, k := range keys {
		if !used[i] {
			return nil, fmt.Errorf("target %q matches no Linear layer (run `eva info --model DIR --linears` to list them)", strings.TrimSpace(k))
		}
	}
	return names, nil
}
