"""`python -m geo_api.cli` = `wangge`."""

from geo_api.cli import main

main()
