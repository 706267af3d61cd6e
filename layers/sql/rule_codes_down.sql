-- Down from 0012 (rule codes): mahalle.prepare_geometry and mahalle.validate_custom as foundation.sql and
-- custom_layers.sql made them, without the DETAIL of rule codes.

CREATE OR REPLACE FUNCTION mahalle.prepare_geometry(g geometry, want text, who text)
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

CREATE OR REPLACE FUNCTION mahalle.validate_custom() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  spec jsonb;
  who text := format('%s %s', TG_TABLE_NAME,
                     CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END);
  rec jsonb;
  a jsonb;
  aname text;
  v jsonb;
  vals text[];
BEGIN
  SELECT r.spec INTO spec FROM mahalle.layer_registry r WHERE r.name = TG_TABLE_NAME AND r.kind = 'custom';
  IF spec IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = format('%s: the layer is not registered', who);
  END IF;
  IF spec->>'geometry_type' IS NOT NULL THEN
    IF NEW.geom IS NULL AND coalesce(spec->'geometry_required', 'true') = 'true' THEN
      RAISE EXCEPTION USING ERRCODE = '23502', COLUMN = 'geom',
        MESSAGE = who || ': the feature has no geometry';
    END IF;
    NEW.geom := mahalle.prepare_geometry(NEW.geom, upper(spec->>'geometry_type'), who);
  END IF;
  rec := to_jsonb(NEW);
  FOR a IN SELECT * FROM jsonb_array_elements(spec->'attributes') LOOP
    aname := a->>'name';
    v := rec->aname;
    IF v IS NULL OR v = 'null'::jsonb THEN
      IF (a->>'required')::boolean THEN
        RAISE EXCEPTION USING ERRCODE = '23502', COLUMN = aname, MESSAGE = format('%s: %s is required', who, aname);
      END IF;
      CONTINUE;
    END IF;
    vals := ARRAY(SELECT c->>'value' FROM jsonb_array_elements(coalesce(a->'choices', '[]')) c);
    IF a->>'type' = 'choice' AND NOT (rec->>aname = ANY (vals)) THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s %L is not one of: %s', who, aname, rec->>aname, array_to_string(vals, ', '));
    END IF;
    IF a->>'type' = 'choices' AND NOT (ARRAY(SELECT jsonb_array_elements_text(v)) <@ vals) THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s %s: only these values are allowed: %s', who, aname,
                         ARRAY(SELECT jsonb_array_elements_text(v)), array_to_string(vals, ', '));
    END IF;
    IF jsonb_typeof(a->'minimum') = 'number' AND (rec->>aname)::numeric < (a->>'minimum')::numeric THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s must be at least %s (got %s)', who, aname, a->>'minimum', rec->>aname);
    END IF;
    IF jsonb_typeof(a->'maximum') = 'number' AND (rec->>aname)::numeric > (a->>'maximum')::numeric THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s must be at most %s (got %s)', who, aname, a->>'maximum', rec->>aname);
    END IF;
    IF jsonb_typeof(a->'max_length') = 'number' AND char_length(rec->>aname) > (a->>'max_length')::integer THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s is longer than %s characters', who, aname, a->>'max_length');
    END IF;
  END LOOP;
  RETURN NEW;
END $$;

-- CREATE OR REPLACE took SECURITY DEFINER and the search_path from the trigger function: given back.
SELECT mahalle.secure_trigger_functions();
