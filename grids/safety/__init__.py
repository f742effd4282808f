"""The safety platform (平安网): departments, transfers (转办), joint duty (联勤), their KPIs."""
