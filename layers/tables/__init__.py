"""One module per table, holding that table's model and its queries.

Importing any table imports `models`, so every mapper is registered before the
first session is made, whichever table a caller reached first.
"""

import layers.tables.models  # noqa: F401
