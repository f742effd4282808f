"""The grid domain: hierarchy, locate, assign, workflow, topology, redraw, balance."""
