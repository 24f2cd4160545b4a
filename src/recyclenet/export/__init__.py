"""Outputs for people and GIS tools: maps (HTML, PNG) and reports."""
