"""Holding and booking slots, and the commands a client sends for them."""
