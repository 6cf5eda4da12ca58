"""Placeholder until the reader lands."""

READERS: list = []
