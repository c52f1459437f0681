"""`python -m dpgkg` runs the CLI."""

from dpgkg.cli import main

main()
