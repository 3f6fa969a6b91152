package eva

// Incremental column mean and variance, as sklearn's _incremental_mean_and_var (and PEFT's port of
// it) computes them, in float64.

// batchMoments describes one batch of n rows of d columns.
type batchMoments struct {
	n      int
	sum    []float64 // column sums
	mean   []float64 // sum/n
	unnorm []float64 // Σ(x − mean)² − (Σ(x − mean))²/n, the two-pass unnormalised variance
}

// centreBatch converts the n×d float32 rows to float64 and writes them, centred on their own
// column mean, into x (n·d values, row-major), returning the batch's moments. Rows are read twice
// (sum, then deviations) and written once.
func centreBatch(rows []float32, n, d int, x []float64) batchMoments {
	b := batchMoments{n: n, sum: make([]float64, d), mean: make([]float64, d), unnorm: make([]float64, d)}
	for i := range n {
		row := rows[i*d : (i+1)*d]
		for j, v := range row {
			b.sum[j] += float64(v)
		}
	}
	for j, s := range b.sum {
		b.mean[j] = s / float64(n)
	}
	correction := make([]float64, d)
	for i := range n {
		row, out := rows[i*d:(i+1)*d], x[i*d:(i+1)*d]
		for j, v := range row {
			t := float64(v) - b.mean[j]
			out[j] = t
			correction[j] += t
			b.unnorm[j] += t * t
		}
	}
	for j, c := range correction {
		b.unnorm[j] -= c * c / float64(n)
	}
	return b
}

// combineMoments merges batch b into the running mean and variance of seen earlier rows (mean and
// variance are ignored when seen is 0) and returns the new mean and variance of seen+b.n rows.
func combineMoments(mean, variance []float64, seen int64, b batchMoments) (newMean, newVar []float64) {
	d := len(b.sum)
	total := float64(seen + int64(b.n))
	newMean, newVar = make([]float64, d), make([]float64, d)
	if seen == 0 {
		for j := range d {
			newMean[j] = b.sum[j] / total
			newVar[j] = b.unnorm[j] / total
		}
		return newMean, newVar
	}
	last := float64(seen)
	lastOverNew := last / float64(b.n)
	for j := range d {
		lastSum := mean[j] * last
		newMean[j] = (lastSum + b.sum[j]) / total
		diff := lastSum/lastOverNew - b.sum[j]
		newVar[j] = (variance[j]*last + b.unnorm[j] + lastOverNew/total*diff*diff) / total
	}
	return newMean, newVar
}
