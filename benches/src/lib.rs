//! Benchmarks for Keyplane; see `benches/`.
