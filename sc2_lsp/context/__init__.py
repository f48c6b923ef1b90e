"""Syntax-aware context: completion mode and snippet retrieval (grammars: sc2_lsp.languages)."""
