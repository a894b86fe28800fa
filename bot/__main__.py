"""`python -m bot` runs the leadsbot CLI."""
from bot.launch import main

main()
