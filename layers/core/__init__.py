"""What all of wangge shares and needs nothing of ours: errors, roles, constants, CRS, clocks."""
