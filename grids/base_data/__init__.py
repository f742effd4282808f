"""The base data where it meets the grid: geocoding to cells, figures per cell, intake by address."""
