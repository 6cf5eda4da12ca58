"""Summarising clusters into findings (see ARCHITECTURE.md, 'Stages and data flow').

Every text a summariser sees is already redacted (:mod:`tracemine.redact`).
"""
