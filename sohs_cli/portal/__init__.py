"""The HTTP client of the receiving portal (httpx lives here only)."""
