package eva

import "sort"

// redistribute is PEFT's _get_rank_distribution: every layer offers the explained variance ratios
// of its group's first maxRank components (duplicates offer the same values as their hook layer),
// the budget Σ r_l largest values are taken (a stable descending sort over the redistribution
// order, so ties go to the earlier entry), and each layer's rank is the number of its values taken.
// Within a group the hook layer then swaps counts with any member that got more, so it holds the
// group's maximum. EVRs are non-increasing within a layer, so every layer gets a prefix of its
// components; Σ ranks = budget because Σ maxRank ≥ Σ r_l.
func (run *Run) redistribute() []int {
	type offer struct {
		evr   float64
		layer int
	}
	var offers []offer
	for _, i := range run.order {
		l := run.layers[i]
		for _, v := range l.hook.est.evr[:l.maxRank] {
			offers = append(offers, offer{v, i})
		}
	}
	sort.SliceStable(offers, func(a, b int) bool { return offers[a].evr > offers[b].evr })
	ranks := make([]int, len(run.layers))
	for _, o := range offers[:min(run.budget, len(offers))] {
		ranks[o.layer]++
	}
	for _, i := range run.order {
		h := run.layers[i].hook.layer
		if h != i && ranks[h] < ranks[i] {
			ranks[h], ranks[i] = ranks[i], ranks[h]
		}
	}
	return ranks
}
