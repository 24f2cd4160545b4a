"""The recyclenet HTTP service (issue #5)."""
