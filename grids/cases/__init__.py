"""A case (事件) from intake to close.

Fields, workflow, deadlines, SLA, assignment and duty, dispatch, KPIs, Open311, import, access.
"""
