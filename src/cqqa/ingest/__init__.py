"""Ingest: find and read the articles, repair their layout with offsets kept, cut them into chunks."""
