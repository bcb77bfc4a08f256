"""``storages.backends.<module>``: django-storages' modules, answered by our providers.

Each module imports only its own provider package, on first use of a name, so a project
with ``storages-compat[s3]`` never needs the SDKs of providers it does not use.
"""
