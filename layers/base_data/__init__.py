"""The base-data centre's storage-near parts: privacy of persons, address text, file reading.

Nothing here needs the grid: what depends on where a point belongs (matching an
address to its cells, the derived figures per cell) is in `grids.base_data`.
"""
