"""Retrieve: one question to ranked passages and the decision whether the articles answer it."""
