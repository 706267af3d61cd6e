-- Mahalle foundation: who is editing, the layer registry, the history log and the generic triggers.
-- Layer tables themselves are generated from the catalogue by layers/ddl.py.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS mahalle;

-- Who is editing: the app sets `SET LOCAL mahalle.actor = '<user>'`; QGIS and psql fall back to the role.
CREATE FUNCTION mahalle.actor() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(current_setting('mahalle.actor', true), ''), current_user::text)
$$;

CREATE TABLE mahalle.layer_registry (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,47}$'),
  kind text NOT NULL CHECK (kind IN ('core', 'planning', 'custom')),
  spec jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL DEFAULT mahalle.actor()
);

-- One row per change of any tracked row, written in the same transaction as the change.
CREATE TABLE mahalle.history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  layer text NOT NULL,
  feature_id bigint NOT NULL,
  feature_uid uuid,
  version integer NOT NULL,
  operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  actor text NOT NULL,
  cause text,
  at timestamptz NOT NULL DEFAULT now(),
  before jsonb,
  after jsonb
);
CREATE INDEX history_feature_idx ON mahalle.history (layer, feature_id, id);
CREATE INDEX history_at_idx ON mahalle.history (layer, at);

-- Long-running work (imports, exports) that a client follows by id.
CREATE TABLE mahalle.jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('import', 'export')),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  progress double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
  message text,
  params jsonb NOT NULL DEFAULT '{}',
  report jsonb,
  result_path text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL DEFAULT mahalle.actor(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX jobs_created_idx ON mahalle.jobs (created_at DESC);

-- Geometry checks shared by every spatial layer; `who` names the layer and feature in the message.
CREATE FUNCTION mahalle.prepare_geometry(g geometry, want text, who text)
RETURNS geometry LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  t text;
BEGIN
  IF g IS NULL THEN
    RETURN NULL;
  END IF;
  IF ST_SRID(g) = 0 THEN
    g := ST_SetSRID(g, 4326);  -- no SRID given: taken as longitude/latitude, range-checked below
  ELSIF ST_SRID(g) <> 4326 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: the geometry is in EPSG:%s; Mahalle stores longitude/latitude (EPSG:4326), reproject it first',
      who, ST_SRID(g));
  END IF;
  IF ST_NDims(g) <> 2 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s: the geometry has Z or M values; send 2D coordinates', who);
  END IF;
  IF ST_IsEmpty(g) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s: the geometry is empty', who);
  END IF;
  t := GeometryType(g);
  IF want LIKE 'MULTI%' AND t = substr(want, 6) THEN
    g := ST_Multi(g);
    t := want;
  END IF;
  IF t = 'GEOMETRYCOLLECTION' OR (want <> 'GEOMETRY' AND t <> want) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: a %s does not fit this layer, which holds %s geometries', who, lower(t), lower(want));
  END IF;
  -- NaN compares greater than every number in PostgreSQL, so NaN and Infinity fail these tests too.
  IF NOT (ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: coordinates must be longitude -180..180 and latitude -90..90 (got %s); '
      'are longitude and latitude swapped, or is the data in another CRS?',
      who, format('x %s..%s, y %s..%s', ST_XMin(g), ST_XMax(g), ST_YMin(g), ST_YMax(g)));
  END IF;
  IF NOT ST_IsValid(g) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s: the geometry is invalid: %s', who, ST_IsValidReason(g));
  END IF;
  RETURN g;
END $$;

-- BEFORE trigger: version, who and when. Ids and UIDs never change; created_* are kept.
CREATE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF coalesce(current_setting('mahalle.restoring', true), '') <> 'on' THEN
      NEW.version := 1;
      NEW.created_at := now();
      NEW.created_by := mahalle.actor();
    END IF;
  ELSE
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.uid IS DISTINCT FROM OLD.uid THEN
      RAISE EXCEPTION USING ERRCODE = '23514',
        MESSAGE = format('%s feature %s: the id and uid of a feature cannot be changed', TG_TABLE_NAME, OLD.id);
    END IF;
    NEW.version := OLD.version + 1;
    NEW.created_at := OLD.created_at;
    NEW.created_by := OLD.created_by;
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

-- BEFORE trigger: the neighbourhood a feature lies in, when not given (or when the feature moved).
CREATE FUNCTION mahalle.derive_neighbourhood() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.geom IS NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.neighbourhood_id IS NOT DISTINCT FROM OLD.neighbourhood_id
     AND NOT ST_Equals(NEW.geom, OLD.geom) THEN
    NEW.neighbourhood_id := NULL;  -- moved: derive again
  END IF;
  IF NEW.neighbourhood_id IS NULL THEN
    SELECT n.id INTO NEW.neighbourhood_id
      FROM public.neighbourhoods n
     WHERE ST_Intersects(n.geom, NEW.geom)
     ORDER BY ST_Intersects(n.geom, ST_PointOnSurface(NEW.geom)) DESC, n.id
     LIMIT 1;
  END IF;
  RETURN NEW;
END $$;

-- A row as history keeps it: its JSON, with the geometry as exact hex EWKB (not rounded GeoJSON).
CREATE FUNCTION mahalle.row_state(r jsonb, g geometry) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r ? 'geom' THEN r || jsonb_build_object('geom', encode(ST_AsEWKB(g), 'hex')) ELSE r END
$$;

-- AFTER trigger: one history row per change. TG_ARGV[0] = 'spatial' when the table has `geom`.
CREATE FUNCTION mahalle.record_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  spatial boolean := TG_NARGS > 0 AND TG_ARGV[0] = 'spatial';
  b jsonb;
  a jsonb;
  r record;
BEGIN
  -- Separate IFs: plpgsql resolves NEW.geom when the statement runs, so it must not run for plain tables.
  IF TG_OP <> 'INSERT' THEN
    b := to_jsonb(OLD);
    IF spatial THEN b := mahalle.row_state(b, OLD.geom); END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    a := to_jsonb(NEW);
    IF spatial THEN a := mahalle.row_state(a, NEW.geom); END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  INSERT INTO mahalle.history (layer, feature_id, feature_uid, version, operation, actor, cause, before, after)
  VALUES (TG_TABLE_NAME, r.id, r.uid, r.version, TG_OP, mahalle.actor(),
          nullif(current_setting('mahalle.cause', true), ''), b, a);
  RETURN NULL;
END $$;

-- Links from planning rows to features of any layer: the target must exist.
CREATE FUNCTION mahalle.check_feature_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  found boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry WHERE name = NEW.layer) THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('%s: there is no layer named %L', TG_TABLE_NAME, NEW.layer);
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I WHERE id = $1)', NEW.layer) INTO found USING NEW.feature_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('%s: %s feature %s does not exist', TG_TABLE_NAME, NEW.layer, NEW.feature_id);
  END IF;
  RETURN NEW;
END $$;

-- Reading history -----------------------------------------------------------------------------------

CREATE FUNCTION mahalle.feature_history(_layer text, _id bigint)
RETURNS SETOF mahalle.history LANGUAGE sql STABLE AS $$
  SELECT * FROM mahalle.history WHERE layer = _layer AND feature_id = _id ORDER BY id
$$;

-- The rows of a layer as they were at `_at`, as JSON states (geometry as hex EWKB).
CREATE FUNCTION mahalle.layer_states_as_of(_layer text, _at timestamptz)
RETURNS TABLE (feature_id bigint, state jsonb) LANGUAGE sql STABLE AS $$
  SELECT s.feature_id, s.after
    FROM (SELECT DISTINCT ON (h.feature_id) h.feature_id, h.operation, h.after
            FROM mahalle.history h
           WHERE h.layer = _layer AND h.at <= _at
           ORDER BY h.feature_id, h.id DESC) s
   WHERE s.operation <> 'DELETE'
$$;

-- Typed: SELECT * FROM mahalle.as_of(NULL::public.parcels, '2026-01-01')
CREATE FUNCTION mahalle.as_of(_row anyelement, _at timestamptz)
RETURNS SETOF anyelement LANGUAGE plpgsql STABLE AS $$
DECLARE
  _layer text := (SELECT c.relname FROM pg_class c WHERE c.reltype = pg_typeof(_row)::oid);
BEGIN
  RETURN QUERY SELECT (jsonb_populate_record(_row, s.state)).* FROM mahalle.layer_states_as_of(_layer, _at) s;
END $$;

-- Restore a feature to a past version (default: its last state before it was deleted).
-- Updates the live row if it exists, or re-inserts it with its id and uid. Returns the new version.
CREATE FUNCTION mahalle.restore_feature(_layer text, _id bigint, _version integer DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  tbl regclass;
  state jsonb;
  last_version integer;
  cols text;
  vals text;
  new_version integer;
  live boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry WHERE name = _layer) THEN
    RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('there is no layer named %L', _layer);
  END IF;
  tbl := format('public.%I', _layer)::regclass;
  SELECT max(h.version) INTO last_version FROM mahalle.history h WHERE h.layer = _layer AND h.feature_id = _id;
  IF _version IS NULL THEN
    SELECT coalesce(h.after, h.before) INTO state FROM mahalle.history h
     WHERE h.layer = _layer AND h.feature_id = _id ORDER BY h.id DESC LIMIT 1;
  ELSE
    SELECT h.after INTO state FROM mahalle.history h
     WHERE h.layer = _layer AND h.feature_id = _id AND h.version = _version AND h.operation <> 'DELETE'
     ORDER BY h.id DESC LIMIT 1;
  END IF;
  IF state IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format(
      '%s feature %s has no version %s in its history', _layer, _id, coalesce(_version::text, 'to restore'));
  END IF;
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
         string_agg('r.' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
    INTO cols, vals
    FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     AND a.attname NOT IN ('id', 'uid', 'version', 'created_at', 'created_by', 'updated_at', 'updated_by');
  PERFORM set_config('mahalle.cause', coalesce(nullif(current_setting('mahalle.cause', true), ''),
                     format('restore of version %s', state->>'version')), true);
  -- EXECUTE does not set FOUND, so ask for the row explicitly (and lock it).
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE id = $1 FOR UPDATE)', tbl) INTO live USING _id;
  IF live THEN
    EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r) '
                   'WHERE t.id = $2 RETURNING t.version', tbl, cols, vals, tbl)
      INTO new_version USING state, _id;
  ELSE
    PERFORM set_config('mahalle.restoring', 'on', true);
    EXECUTE format('INSERT INTO %s (id, uid, version, created_at, created_by, %s) '
                   'SELECT r.id, r.uid, $2, r.created_at, r.created_by, %s '
                   'FROM jsonb_populate_record(NULL::%s, $1) r RETURNING version', tbl, cols, vals, tbl)
      INTO new_version USING state, last_version + 1;
    PERFORM set_config('mahalle.restoring', 'off', true);
  END IF;
  RETURN new_version;
END $$;

-- A history state for people and APIs: the geometry as GeoJSON instead of hex EWKB.
CREATE FUNCTION mahalle.state_for_display(s jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s ? 'geom' AND jsonb_typeof(s->'geom') = 'string'
              THEN s || jsonb_build_object('geom', ST_AsGeoJSON((s->>'geom')::geometry)::jsonb)
              ELSE s END
$$;
