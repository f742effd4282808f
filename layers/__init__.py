"""The spatial data: tables, queries, file IO, CRS conversion, derived layers."""
