"""Product search: index settings and mappings, documents, synonyms, facets and the ES adapter.

Everything here is plain Python over the `elasticsearch` client; the serving route, the
near-real-time consumer and the reindex job build on it.
"""
