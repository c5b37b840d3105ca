"""The simulated receiving portal (BHXH gateway and the checkup hub): an ASGI app and its store."""
