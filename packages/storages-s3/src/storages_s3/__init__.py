"""Django storage backend for Amazon S3 and S3-compatible services (DigitalOcean Spaces, MinIO, R2, B2)."""
