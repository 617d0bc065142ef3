"""Meent: a linked-data knowledge graph of public–collective collaboration."""

__version__ = "0.1.0"
