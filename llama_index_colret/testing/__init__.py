"""Test support shared by tests, benchmarks and examples: offline tiny models, generated PDFs with known
truth, and a deterministic test-double embedder. Never a product default."""
