"""The test settings as a module, for tools that want DJANGO_SETTINGS_MODULE (mypy)."""

from .django import TEST_SETTINGS

globals().update(TEST_SETTINGS)
