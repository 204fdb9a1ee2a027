"""The platform's foundation, below every domain: settings, extension objects, column types, the
clock (time source), personal-data encryption, instance secrets, blob storage, pagination, the
shared Redis link, counters and the signals by which domains react to each other.

Nothing here imports a domain package (import-linter's layer contract in pyproject.toml)."""
