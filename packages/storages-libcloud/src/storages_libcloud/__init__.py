"""Django storage backend for Apache Libcloud storage drivers."""
