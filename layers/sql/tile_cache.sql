-- The vector tile cache (migration 0015): tiles kept by layer, zoom, column, row, the reader's scope and the
-- statement that made them, in an UNLOGGED table (a crash empties it; it is never replicated or backed up).
-- Every writer's edit (the app, the importers, QGIS and psql) drops exactly the kept tiles that the old or the new
-- geometry of a changed feature touches, in all zooms and scopes, in the edit's own statement.
--
-- Only the application reads and fills it (its functions below are SECURITY INVOKER, and people's database logins
-- have no privilege on the table): a tile kept for one reader's scope is never seen by another.

CREATE UNLOGGED TABLE mahalle.tile_cache (
  layer text NOT NULL,
  z smallint NOT NULL,
  x integer NOT NULL,
  y integer NOT NULL,
  scope text NOT NULL,    -- whose rows: 'all', or 'n:' and the neighbourhood ids the reader may read (mahalle.tile_scope)
  variant text NOT NULL,  -- the statement and limits that made it (gis/tiles.py tile_variant): a release that changes them misses
  data bytea NOT NULL,    -- empty: no feature touches the tile
  etag text,
  truncated boolean NOT NULL DEFAULT false,
  generation bigint NOT NULL,  -- mahalle.tile_cache_generation when kept: served only while it is still current
  bounds geometry(Polygon, 3857) NOT NULL,  -- the tile with its buffer and one pixel more (a simplified edge)
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (layer, z, x, y, scope, variant)
);
CREATE INDEX tile_cache_bounds_idx ON mahalle.tile_cache USING gist (bounds);
CREATE INDEX tile_cache_created_idx ON mahalle.tile_cache (created_at);

-- Counts edits of every layer (not transactional, never waits): a reader keeps a tile only if no edit that reached
-- it ran while it was made.
CREATE SEQUENCE mahalle.tile_cache_epoch;

-- Where the recent edits reached, by epoch: one row per statement, the box of its old and new geometries in Web
-- Mercator (NULL: the whole layer: TRUNCATE, a registration changed). Rows older than ten minutes go (a tile is
-- made within the statement timeout); a reader who looked before the oldest row left keeps nothing.
CREATE UNLOGGED TABLE mahalle.tile_cache_edits (
  epoch bigint NOT NULL,
  layer text NOT NULL,
  box geometry,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tile_cache_edits_idx ON mahalle.tile_cache_edits (layer, epoch);
CREATE INDEX tile_cache_edits_at_idx ON mahalle.tile_cache_edits (at);
CREATE SEQUENCE mahalle.tile_cache_edits_floor;  -- the newest epoch whose row was removed

-- Moves on when a writer in a REPEATABLE READ or SERIALIZABLE transaction edits a layer: its snapshot may predate a
-- tile kept since, which its DELETE cannot see, so every tile kept before is no longer served (rare: the app, the
-- importers, QGIS and psql write in READ COMMITTED, where the DELETE sees every committed tile).
CREATE SEQUENCE mahalle.tile_cache_generation;

-- The advisory lock of a layer's tiles: edits hold it shared until they commit (they never wait for each other); a
-- reader keeping a tile tries it exclusively and, if an edit holds it, does not keep the tile.
CREATE FUNCTION mahalle.tile_lock(layer text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT pg_catalog.hashtextextended('mahalle.tile_cache:' || layer, 0)
$$;

-- The reader's scope of a layer as a key: 'all' when they read every row (mahalle.scope is NULL), else 'n:' and
-- the neighbourhoods they read ('n:' alone: none), hashed when long. Readers with one key read the same rows: the
-- layers' read policy is exactly mahalle.scope('read', layer) (identity.sql, protect_layer).
CREATE FUNCTION mahalle.tile_scope(layer text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN r.scope IS NULL THEN 'all'
              WHEN length(s.ids) <= 64 THEN 'n:' || s.ids
              ELSE 'md5:' || md5(s.ids) END
    FROM (SELECT mahalle.scope('read', layer) AS scope) r,
         LATERAL (SELECT array_to_string(ARRAY(SELECT DISTINCT n FROM unnest(r.scope) n ORDER BY n), ',') AS ids) s
$$;

CREATE FUNCTION mahalle.tile_epoch() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mahalle.tile_cache_epoch
$$;

CREATE FUNCTION mahalle.tile_generation() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mahalle.tile_cache_generation
$$;

-- A kept tile for this reader, or (a miss) the epoch to hand to mahalle.tile_cache_put: NULL when an edit of the
-- layer is in flight now (its rows are not in the tile about to be made, and its commit would come too late to
-- drop it). The epoch is read before the test, the test before the tile's snapshot is taken.
CREATE FUNCTION mahalle.tile_cache_get(layer text, tz integer, tx integer, ty integer, tvariant text,
  OUT data bytea, OUT etag text, OUT truncated boolean, OUT epoch bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  key bigint := mahalle.tile_lock(layer);
BEGIN
  IF pg_catalog.pg_is_in_recovery() THEN  -- a read replica: an unlogged table cannot be read there; no cache
    RETURN;
  END IF;
  SELECT c.data, c.etag, c.truncated INTO data, etag, truncated FROM mahalle.tile_cache c
   WHERE c.layer = layer AND c.z = tz AND c.x = tx AND c.y = ty AND c.scope = mahalle.tile_scope(layer)
     AND c.variant = tvariant AND c.generation = mahalle.tile_generation();
  IF FOUND THEN
    RETURN;
  END IF;
  epoch := mahalle.tile_epoch();
  -- Held to the end of this statement only (autocommit): never left behind on a pooled connection by an error.
  IF NOT pg_catalog.pg_try_advisory_xact_lock(key) THEN
    epoch := NULL;
  END IF;
END $$;

-- Keeps a tile made after mahalle.tile_cache_get gave `epoch`, unless an edit of the layer reached the tile since or
-- is in flight. Called in autocommit: the exclusive lock lasts until the row is committed, so an edit that starts now
-- waits and then drops it.
CREATE FUNCTION mahalle.tile_cache_put(layer text, tz integer, tx integer, ty integer, tvariant text, epoch bigint,
  tdata bytea, tetag text, ttruncated boolean, margin double precision) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  IF epoch IS NULL OR NOT pg_catalog.pg_try_advisory_xact_lock(mahalle.tile_lock(layer))
     OR epoch < (SELECT f.last_value FROM mahalle.tile_cache_edits_floor f WHERE f.is_called)
     OR EXISTS (SELECT 1 FROM mahalle.tile_cache_edits d
                 WHERE d.layer = layer AND d.epoch > epoch
                   AND (d.box IS NULL OR d.box && ST_Expand(ST_TileEnvelope(tz, tx, ty), margin))) THEN
    RETURN false;
  END IF;
  INSERT INTO mahalle.tile_cache AS c (layer, z, x, y, scope, variant, data, etag, truncated, generation, bounds)
  VALUES (layer, tz, tx, ty, mahalle.tile_scope(layer), tvariant, tdata, tetag, ttruncated, mahalle.tile_generation(),
          ST_Expand(ST_TileEnvelope(tz, tx, ty), margin))
  ON CONFLICT ON CONSTRAINT tile_cache_pkey DO UPDATE
    SET data = EXCLUDED.data, etag = EXCLUDED.etag, truncated = EXCLUDED.truncated, generation = EXCLUDED.generation,
        bounds = EXCLUDED.bounds, created_at = EXCLUDED.created_at
    WHERE c.generation <> EXCLUDED.generation;  -- a tile of a past generation is replaced
  RETURN FOUND;
END $$;

-- A layer geometry's box in Web Mercator, for comparing with tiles' boxes (&&): the box of its corners, which is
-- the box of the whole geometry transformed (Mercator keeps the order of longitudes and of latitudes) without
-- transforming every vertex of a surveyed boundary; beyond the Mercator latitudes (where a transform fails) the
-- box clamped to them.
CREATE FUNCTION mahalle.tile_geometry(g geometry) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN ST_YMin(g) >= -85.05 AND ST_YMax(g) <= 85.05 THEN ST_Transform(ST_Envelope(g), 3857)
              ELSE ST_Transform(ST_MakeEnvelope(greatest(ST_XMin(g), -180), least(greatest(ST_YMin(g), -85.05), 85.05),
                                                least(ST_XMax(g), 180), greatest(least(ST_YMax(g), 85.05), -85.05),
                                                4326), 3857) END
$$;

-- An edit of a layer begins to count: it holds the layer's lock shared until it commits, takes an epoch and notes
-- where it reaches (`everywhere`, or the box; nothing for a statement that changed no row). Now and then the notes
-- older than ten minutes go.
CREATE FUNCTION mahalle.tile_edit(layer text, everywhere boolean, reach geometry) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  e bigint;
  gone bigint;
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock_shared(mahalle.tile_lock(layer));
  e := nextval('mahalle.tile_cache_epoch');
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    PERFORM nextval('mahalle.tile_cache_generation');
  END IF;
  IF everywhere OR reach IS NOT NULL THEN
    INSERT INTO mahalle.tile_cache_edits (epoch, layer, box) VALUES (e, layer, CASE WHEN NOT everywhere THEN reach END);
  END IF;
  IF e % 256 = 0 THEN
    WITH old AS (DELETE FROM mahalle.tile_cache_edits d WHERE d.at < clock_timestamp() - interval '10 minutes'
                 RETURNING d.epoch)
    SELECT max(o.epoch) INTO gone FROM old o;
    IF gone IS NOT NULL THEN  -- set at once (not transactional): a reader who looked before gone keeps nothing
      PERFORM setval('mahalle.tile_cache_edits_floor',
                     greatest(gone, (SELECT f.last_value FROM mahalle.tile_cache_edits_floor f)));
    END IF;
  END IF;
END $$;

-- AFTER each statement on a spatial layer: drops the kept tiles whose box (with the buffer and a pixel) the box of
-- an old or a new geometry overlaps. The box, not the shape: a tile's query counts the rows whose box meets it
-- (gis/tiles.py), so a row that only comes near can still make the tile cut at its limit. One DELETE per statement,
-- also for a bulk import; nothing to do when the layer has no kept tile. TRUNCATE drops the layer's tiles.
-- An edit never waits for another: a kept tile that another edit in flight is dropping (row-locked) is skipped, and
-- the generation moves on instead (every tile kept so far retired; if that edit rolls back, its tiles are not served).
CREATE FUNCTION mahalle.invalidate_tiles() RETURNS trigger LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  layer constant text := TG_TABLE_NAME;
  matched bigint;
  dropped bigint;
  reach box2d;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT ST_Extent(n.geom) INTO reach FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT ST_Extent(g.geom) INTO reach FROM (SELECT n.geom FROM new_rows n UNION ALL SELECT o.geom FROM old_rows o) g;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT ST_Extent(o.geom) INTO reach FROM old_rows o;
  END IF;
  PERFORM mahalle.tile_edit(layer, TG_OP = 'TRUNCATE',
                            mahalle.tile_geometry(ST_SetSRID(reach::geometry, 4326)));
  IF NOT EXISTS (SELECT 1 FROM mahalle.tile_cache c WHERE c.layer = layer) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM mahalle.drop_layer_tiles(layer);
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    WITH hit AS (SELECT DISTINCT c.ctid AS t FROM mahalle.tile_cache c, (SELECT mahalle.tile_geometry(n.geom) AS g FROM new_rows n) r
                  WHERE c.layer = layer AND c.bounds && r.g),
         gone AS (DELETE FROM mahalle.tile_cache c WHERE c.ctid = ANY (ARRAY(
                    SELECT f.ctid FROM mahalle.tile_cache f WHERE f.ctid = ANY (ARRAY(SELECT h.t FROM hit h))
                       FOR UPDATE SKIP LOCKED)) RETURNING 1)
    SELECT (SELECT count(*) FROM hit), (SELECT count(*) FROM gone) INTO matched, dropped;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH hit AS (SELECT DISTINCT c.ctid AS t FROM mahalle.tile_cache c, (SELECT mahalle.tile_geometry(n.geom) AS g FROM new_rows n
                   UNION ALL SELECT mahalle.tile_geometry(o.geom) FROM old_rows o) r
                  WHERE c.layer = layer AND c.bounds && r.g),
         gone AS (DELETE FROM mahalle.tile_cache c WHERE c.ctid = ANY (ARRAY(
                    SELECT f.ctid FROM mahalle.tile_cache f WHERE f.ctid = ANY (ARRAY(SELECT h.t FROM hit h))
                       FOR UPDATE SKIP LOCKED)) RETURNING 1)
    SELECT (SELECT count(*) FROM hit), (SELECT count(*) FROM gone) INTO matched, dropped;
  ELSE
    WITH hit AS (SELECT DISTINCT c.ctid AS t FROM mahalle.tile_cache c, (SELECT mahalle.tile_geometry(o.geom) AS g FROM old_rows o) r
                  WHERE c.layer = layer AND c.bounds && r.g),
         gone AS (DELETE FROM mahalle.tile_cache c WHERE c.ctid = ANY (ARRAY(
                    SELECT f.ctid FROM mahalle.tile_cache f WHERE f.ctid = ANY (ARRAY(SELECT h.t FROM hit h))
                       FOR UPDATE SKIP LOCKED)) RETURNING 1)
    SELECT (SELECT count(*) FROM hit), (SELECT count(*) FROM gone) INTO matched, dropped;
  END IF;
  IF dropped < matched THEN
    PERFORM nextval('mahalle.tile_cache_generation');
  END IF;
  RETURN NULL;
END $$;

-- Drops every kept tile of a layer (TRUNCATE, a registration changed), skipping none silently: where another edit in
-- flight holds one, the generation moves on.
CREATE FUNCTION mahalle.drop_layer_tiles(layer text) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
  DELETE FROM mahalle.tile_cache c WHERE c.ctid = ANY (ARRAY(
    SELECT f.ctid FROM mahalle.tile_cache f WHERE f.layer = layer FOR UPDATE SKIP LOCKED));
  IF EXISTS (SELECT 1 FROM mahalle.tile_cache c WHERE c.layer = layer) THEN
    PERFORM nextval('mahalle.tile_cache_generation');
  END IF;
END $$;

-- Puts the invalidation on a layer's table (those with a geometry column; again is harmless).
CREATE FUNCTION mahalle.add_tile_cache_triggers(layer text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  event text;
  transition text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.geometry_columns g WHERE g.f_table_schema = 'public'
                    AND g.f_table_name = layer AND g.f_geometry_column = 'geom') THEN
    RETURN;
  END IF;
  FOR event, transition IN VALUES ('insert', 'REFERENCING NEW TABLE AS new_rows'),
                                  ('update', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                                  ('delete', 'REFERENCING OLD TABLE AS old_rows'), ('truncate', '') LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'z95_tiles_' || event, layer);
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON public.%I %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION mahalle.invalidate_tiles()', 'z95_tiles_' || event, upper(event), layer, transition);
  END LOOP;
END $$;

-- A layer registered (a custom layer: mahalle.create_custom_layer makes the table first) gets the triggers; a
-- layer whose registration changes (its attributes, whether it is public) or goes loses its kept tiles.
CREATE FUNCTION mahalle.tile_cache_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM mahalle.add_tile_cache_triggers(NEW.name);
    RETURN NULL;
  END IF;
  PERFORM mahalle.tile_edit(OLD.name, true, NULL);
  PERFORM mahalle.drop_layer_tiles(OLD.name);
  RETURN NULL;
END $$;

CREATE TRIGGER z40_tile_cache AFTER INSERT OR UPDATE OR DELETE ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.tile_cache_registry();

SELECT mahalle.add_tile_cache_triggers(name) FROM mahalle.layer_registry ORDER BY name;
SELECT nextval('mahalle.tile_cache_epoch'), nextval('mahalle.tile_cache_generation');

REVOKE ALL ON FUNCTION mahalle.add_tile_cache_triggers(text), mahalle.drop_layer_tiles(text),
  mahalle.tile_edit(text, boolean, geometry) FROM PUBLIC;
SELECT mahalle.secure_trigger_functions();
