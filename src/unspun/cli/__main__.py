"""`python -m unspun.cli` runs the command line."""

from unspun.cli import main

main()
