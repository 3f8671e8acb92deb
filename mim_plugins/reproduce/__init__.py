"""The end-to-end runner behind tools/reproduce.py and its pieces."""
