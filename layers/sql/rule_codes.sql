-- Rule codes (0012): besides its English MESSAGE (for QGIS and psql), every refusal of a layer's rules carries a
-- DETAIL of JSON text {"rule": <code>, "params": {...}} from which a client words it in the user's language
-- (docs/api.md, "Errors"). The validation functions generated from the catalogue (layers/ddl.py) do the same.
-- Values enter the JSON through jsonb_build_object, never by concatenation.

-- Geometry checks shared by every spatial layer; `who` names the layer and feature in the message.
CREATE OR REPLACE FUNCTION mahalle.prepare_geometry(g geometry, want text, who text)
RETURNS geometry LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  t text;
  layer text := split_part(who, ' ', 1);  -- who: '<layer> new feature' or '<layer> feature <id>'
BEGIN
  IF g IS NULL THEN
    RETURN NULL;
  END IF;
  IF ST_SRID(g) = 0 THEN
    g := ST_SetSRID(g, 4326);  -- no SRID given: taken as longitude/latitude, range-checked below
  ELSIF ST_SRID(g) <> 4326 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: the geometry is in EPSG:%s; Mahalle stores longitude/latitude (EPSG:4326), reproject it first',
      who, ST_SRID(g)),
      DETAIL = jsonb_build_object('rule', 'geometry_srid', 'params',
                                  jsonb_build_object('layer', layer, 'srid', ST_SRID(g)))::text;
  END IF;
  IF ST_NDims(g) <> 2 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s: the geometry has Z or M values; send 2D coordinates', who),
      DETAIL = jsonb_build_object('rule', 'geometry_dimensions', 'params', jsonb_build_object('layer', layer))::text;
  END IF;
  IF ST_IsEmpty(g) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s: the geometry is empty', who),
      DETAIL = jsonb_build_object('rule', 'geometry_empty', 'params', jsonb_build_object('layer', layer))::text;
  END IF;
  t := GeometryType(g);
  IF want LIKE 'MULTI%' AND t = substr(want, 6) THEN
    g := ST_Multi(g);
    t := want;
  END IF;
  IF t = 'GEOMETRYCOLLECTION' OR (want <> 'GEOMETRY' AND t <> want) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: a %s does not fit this layer, which holds %s geometries', who, lower(t), lower(want)),
      DETAIL = jsonb_build_object('rule', 'geometry_type', 'params',
                                  jsonb_build_object('layer', layer, 'expected', lower(want), 'got', lower(t)))::text;
  END IF;
  -- NaN compares greater than every number in PostgreSQL, so NaN and Infinity fail these tests too.
  IF NOT (ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format(
      '%s: coordinates must be longitude -180..180 and latitude -90..90 (got %s); '
      'are longitude and latitude swapped, or is the data in another CRS?',
      who, format('x %s..%s, y %s..%s', ST_XMin(g), ST_XMax(g), ST_YMin(g), ST_YMax(g))),
      -- as text: NaN and Infinity have no JSON number
      DETAIL = jsonb_build_object('rule', 'geometry_out_of_range', 'params', jsonb_build_object(
        'layer', layer, 'xmin', ST_XMin(g)::text, 'xmax', ST_XMax(g)::text,
        'ymin', ST_YMin(g)::text, 'ymax', ST_YMax(g)::text))::text;
  END IF;
  IF NOT ST_IsValid(g) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s: the geometry is invalid: %s', who, ST_IsValidReason(g)),
      DETAIL = jsonb_build_object('rule', 'geometry_invalid', 'params',
                                  jsonb_build_object('layer', layer, 'reason', ST_IsValidReason(g)))::text;
  END IF;
  RETURN g;
END $$;

-- BEFORE INSERT OR UPDATE on every custom layer: the rules of its registered definition, in a planner's words.
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
    RAISE EXCEPTION USING ERRCODE = '23514', MESSAGE = format('%s: the layer is not registered', who),
      DETAIL = jsonb_build_object('rule', 'layer_not_registered', 'params', jsonb_build_object('layer', TG_TABLE_NAME::text))::text;
  END IF;
  IF spec->>'geometry_type' IS NOT NULL THEN
    IF NEW.geom IS NULL AND coalesce(spec->'geometry_required', 'true') = 'true' THEN
      RAISE EXCEPTION USING ERRCODE = '23502', COLUMN = 'geom',
        MESSAGE = who || ': the feature has no geometry',
        DETAIL = jsonb_build_object('rule', 'no_geometry', 'params', jsonb_build_object('layer', TG_TABLE_NAME::text))::text;
    END IF;
    NEW.geom := mahalle.prepare_geometry(NEW.geom, upper(spec->>'geometry_type'), who);
  END IF;
  rec := to_jsonb(NEW);
  FOR a IN SELECT * FROM jsonb_array_elements(spec->'attributes') LOOP
    aname := a->>'name';
    v := rec->aname;
    IF v IS NULL OR v = 'null'::jsonb THEN
      IF (a->>'required')::boolean THEN
        RAISE EXCEPTION USING ERRCODE = '23502', COLUMN = aname, MESSAGE = format('%s: %s is required', who, aname),
          DETAIL = jsonb_build_object('rule', 'required', 'params', jsonb_build_object('layer', TG_TABLE_NAME::text, 'attribute', aname))::text;
      END IF;
      CONTINUE;
    END IF;
    vals := ARRAY(SELECT c->>'value' FROM jsonb_array_elements(coalesce(a->'choices', '[]')) c);
    IF a->>'type' = 'choice' AND NOT (rec->>aname = ANY (vals)) THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s %L is not one of: %s', who, aname, rec->>aname, array_to_string(vals, ', ')),
        DETAIL = jsonb_build_object('rule', 'not_in_list', 'params', jsonb_build_object(
          'layer', TG_TABLE_NAME::text, 'attribute', aname, 'value', v, 'allowed', to_jsonb(vals)))::text;
    END IF;
    IF a->>'type' = 'choices' AND NOT (ARRAY(SELECT jsonb_array_elements_text(v)) <@ vals) THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s %s: only these values are allowed: %s', who, aname,
                         ARRAY(SELECT jsonb_array_elements_text(v)), array_to_string(vals, ', ')),
        DETAIL = jsonb_build_object('rule', 'values_not_allowed', 'params', jsonb_build_object(
          'layer', TG_TABLE_NAME::text, 'attribute', aname,
          'values', to_jsonb(ARRAY(SELECT jsonb_array_elements_text(v) EXCEPT SELECT unnest(vals))),
          'allowed', to_jsonb(vals)))::text;
    END IF;
    IF jsonb_typeof(a->'minimum') = 'number' AND (rec->>aname)::numeric < (a->>'minimum')::numeric THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s must be at least %s (got %s)', who, aname, a->>'minimum', rec->>aname),
        DETAIL = jsonb_build_object('rule', 'minimum', 'params', jsonb_build_object(
          'layer', TG_TABLE_NAME::text, 'attribute', aname, 'minimum', a->'minimum', 'value', v))::text;
    END IF;
    IF jsonb_typeof(a->'maximum') = 'number' AND (rec->>aname)::numeric > (a->>'maximum')::numeric THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s must be at most %s (got %s)', who, aname, a->>'maximum', rec->>aname),
        DETAIL = jsonb_build_object('rule', 'maximum', 'params', jsonb_build_object(
          'layer', TG_TABLE_NAME::text, 'attribute', aname, 'maximum', a->'maximum', 'value', v))::text;
    END IF;
    IF jsonb_typeof(a->'max_length') = 'number' AND char_length(rec->>aname) > (a->>'max_length')::integer THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = aname,
        MESSAGE = format('%s: %s is longer than %s characters', who, aname, a->>'max_length'),
        DETAIL = jsonb_build_object('rule', 'too_long', 'params', jsonb_build_object(
          'layer', TG_TABLE_NAME::text, 'attribute', aname, 'max_length', a->'max_length',
          'length', char_length(rec->>aname)))::text;
    END IF;
  END LOOP;
  RETURN NEW;
END $$;

-- CREATE OR REPLACE took SECURITY DEFINER and the search_path from the trigger function: given back.
SELECT mahalle.secure_trigger_functions();
