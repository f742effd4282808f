"""Work the server does besides answering: jobs, suggestions, the grid LISTEN, the SLA sweep."""
