"""The public service network (公共服务网): catalogue, appointments, proxy handling, documents.

A room of its own above the case room: it reuses the case side's `Actor` and
token hashing, the work calendar and the clocks, and nothing of it is imported by
cases, planning or the grid.
"""
