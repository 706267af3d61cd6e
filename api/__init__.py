"""The FastAPI app and the ``mahalle`` CLI: thin handlers over gis/, layers/ and importers/."""
