"""Errors the engine raises with a message meant for the user."""


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message names the path or id and the cause."""
