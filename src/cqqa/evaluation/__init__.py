"""Evaluation: evaluation files, retrieval and answer scoring, timings."""
