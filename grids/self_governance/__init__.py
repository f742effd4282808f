"""Courtyard self-governance (邻里守望): who governs a courtyard, its duty rota, its patrols.

Above `cases` (a patrol files what it saw through the case intake), beside
`planning`; it reads and writes the self-governance tables of `layers.tables`.
"""
