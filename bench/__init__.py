"""Side-by-side benchmarks (issue 8): every figure is a ratio against a baseline measured in the same run."""
