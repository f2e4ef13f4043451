"""Shared testing tools: content-addressed robustness suites, seeded perturbations, model
adapters, signed and re-checkable results."""
