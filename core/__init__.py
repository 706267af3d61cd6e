"""The base under everything: settings, connections, the embedded cluster, roles, CRS, limits and the error types.

It imports nothing else of the project; every other package may import it.
"""
