"""Evaluation: grounding and retrieval metrics, dataset layouts, baselines."""
