// Package eva computes EVA (Explained Variance Adaptation, Paischer et al. 2024) initialisations
// for LoRA: for every target layer, the leading principal directions of the layer's input become
// the rows of LoRA's A, and a fixed rank budget Σ r_l is redistributed across layers by explained
// variance. It receives activation rows and knows nothing about models; the calibration driver
// (package calib) runs the forward passes.
//
// # Protocol
//
// New takes the Config and the target layers in module order, each with the layer that its input
// is shared with, if any (q/k/v and gate/up of a transformer block receive one input; only the
// group's first layer, its hook layer, is fed and the group shares one PCA). Then, per batch:
// check Done, feed every layer in Listening through Observe (rows already masked to the tokens that
// count), and call EndBatch. Result returns the State, which Save and Load store.
//
// # Algorithm (Hugging Face PEFT's, in float64)
//
// Each hook layer runs sklearn's incremental PCA with k = group max of RoundToEven(r_l·rho)
// components: the running column mean and variance are updated exactly (Chan's pairwise
// formulas), the first batch is factorised after centring, later batches as the stacked matrix
// [diag(σ)·V ; batch − batch mean ; √(n_seen·n/N)·(μ_old − batch mean)]. Signs follow svd_flip on
// V (each component's largest-magnitude entry positive) and the explained variance ratio is
// σ²/Σ_j(var_j·N). After each step, component i has converged when its cosine with the previous
// step's component i is ≥ tau. Before each batch a layer stops listening when all the components
// it is currently assigned have converged (rank 0: at once), and listens again when a later
// redistribution assigns it more. After every batch in which all hook layers have fitted at least
// once, the budget's largest EVRs over all layers (a group's members each offer the group's values;
// stable descending sort over hook layers in module order, then the other members) decide the ranks;
// a hook layer swaps counts with any member of its group that got more. Rank 0 means no adapter.
// With AdjustScaling, alpha_l becomes alpha_l·rank/r_l where the rank changed.
//
// # Where this package departs from PEFT, on purpose
//
//   - Everything is float64; PEFT's first step runs in float32 (later ones are promoted to
//     float64), so the first step agrees with PEFT to about 1e-6.
//   - Whitening divides each layer's rows by √σ once; PEFT's in-place division of a shared view
//     divides a group's rows once per member whose rank covers them. Saved states record this.
//   - MaxBatches bounds the loop (PEFT cycles forever when a layer never converges or never gets
//     enough rows) and the error names the layers concerned; NaN or ±Inf rows are an error.
//   - Covariance mode (exact PCA of all rows via the d×d scatter and a symmetric eigensolver) is
//     this package's own; Randomized uses its own seeded Gaussian sketch, so it agrees with PEFT's
//     torch.svd_lowrank only to the sketch's accuracy.
//   - Rank and alpha patterns: a key equal to the full layer name wins, and otherwise all matching
//     keys must agree (a Go map has no order in which a "first" key could win).
//
// # Conventions
//
// Matrices are row-major float64 slices (A is Rank×In: row c is component c). Observe reads its
// rows during the call only; a State owns all its slices and the caller may modify them.
package eva
