"""`python -m autograd walkthrough|explain|draw EXPRESSION --at NAME=NUMBER ...` (see autograd/cli.py)."""

from .cli import main

main()
