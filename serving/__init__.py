"""FastAPI serving APIs: one router per domain, composed in serving.app."""
