"""The district's layers as OGC API feature collections: registry, queries, edits, tiles, files."""
