"""Importers: turn outside data (OpenStreetMap, files, surveys) into rows for Mahalle layers."""
