"""Syntax-aware context: languages and grammars, completion mode, snippet retrieval."""
