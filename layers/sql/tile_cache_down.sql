-- Undoes migration 0015: the invalidation leaves every layer, then the cache and its functions go.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger WHERE tgname LIKE 'z95\_tiles\_%' LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
  END LOOP;
END $$;
DROP TRIGGER IF EXISTS z40_tile_cache ON mahalle.layer_registry;
DROP TABLE IF EXISTS mahalle.tile_cache, mahalle.tile_cache_edits;
DROP SEQUENCE IF EXISTS mahalle.tile_cache_epoch, mahalle.tile_cache_generation, mahalle.tile_cache_edits_floor;
DROP FUNCTION IF EXISTS mahalle.tile_cache_registry(), mahalle.add_tile_cache_triggers(text), mahalle.invalidate_tiles(), mahalle.drop_layer_tiles(text), mahalle.tile_edit(text, boolean, geometry),
  mahalle.tile_geometry(geometry), mahalle.tile_cache_put(text, integer, integer, integer, text, bigint, bytea, text,
  boolean, double precision), mahalle.tile_cache_get(text, integer, integer, integer, text), mahalle.tile_epoch(), mahalle.tile_generation(),
  mahalle.tile_scope(text), mahalle.tile_lock(text);
