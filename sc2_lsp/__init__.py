"""sc2-lsp: local-first inline code completion with StarCoder2."""

__version__ = "0.1.0"
