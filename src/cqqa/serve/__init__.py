"""Serve: the web chat, its routes and what the server refuses."""
