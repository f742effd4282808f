"""Redrawing the grid.

Drafts, validation and topology, impact, publish and reassign, balance and regions.
"""
