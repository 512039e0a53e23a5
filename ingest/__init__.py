"""Turns news sources into articles and chunks, and writes them through `retrieval`."""
