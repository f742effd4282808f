"""Derived layers: camera coverage and visibility, siting, hotspots, trends, their cache."""
