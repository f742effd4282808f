"""The three-level grid in memory and in time: THE place that decides which cell a point is in."""
