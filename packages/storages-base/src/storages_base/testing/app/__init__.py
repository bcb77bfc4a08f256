"""A Django app holding the model the conformance suite saves files through."""
