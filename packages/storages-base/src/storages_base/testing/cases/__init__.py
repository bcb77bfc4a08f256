"""The conformance cases, grouped by topic; :mod:`..contract` assembles them."""
