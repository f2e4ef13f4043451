"""Commitments: joint statements, human-control principles, moratoria, agreements and a shared
glossary, adopted by co-signature."""
