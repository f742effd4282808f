"""The data behind each map page, as plain frames and dataclasses for `maps` to draw."""
