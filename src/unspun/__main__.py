"""`python -m unspun` runs the command line."""

from unspun.cli import main

main()
