"""Folium page builders: data in, HTML page out, no database access."""
