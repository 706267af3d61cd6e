"""OGC API – Features (parts 1–4) and Tiles over every spatial layer of the catalogue, under /ogc."""
