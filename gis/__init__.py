"""The spatial engine over PostGIS: connections, the embedded cluster, CRS, geometry, measurement."""
