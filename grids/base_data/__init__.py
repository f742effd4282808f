"""The base data where it meets the grid: geocoding to cells, cell figures, people by cell."""
