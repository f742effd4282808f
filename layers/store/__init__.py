"""Reaching the database: engine and sessions, the private cluster, admin, COPY, LISTEN, backups."""
