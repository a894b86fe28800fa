"""`python -m bot` runs the leadsbot CLI."""
from bot.cli import main

main()
