-- Custom layers made at run time by the application role, which has no DDL rights of its own.
--
-- mahalle.create_custom_layer(spec) and mahalle.drop_custom_layer(name) run as the owner role
-- (SECURITY DEFINER, fixed search_path, EXECUTE granted only to the application role). They check the
-- definition again, whatever the caller checked, and compose the DDL with %I (names) and %L (values)
-- only. The validation trigger is one generic function that reads the registered definition, so no
-- value of a definition ever becomes code.

-- A definition the database refuses: SQLSTATE 22023 (invalid_parameter_value), shown to the planner as 422.
CREATE FUNCTION mahalle.refuse_definition(message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = message;
END $$;

-- BEFORE INSERT OR UPDATE on every custom layer: the rules of its registered definition, in a planner's words.
CREATE FUNCTION mahalle.validate_custom() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- A translated text as the catalogue keeps it: an object of language -> text (labels, titles, help).
CREATE FUNCTION mahalle.is_translation(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT j IS NULL OR j = 'null'::jsonb OR (jsonb_typeof(j) = 'object'
         AND NOT EXISTS (SELECT 1 FROM jsonb_each(j) e WHERE jsonb_typeof(e.value) <> 'string'))
$$;

-- The column type of an attribute type; NULL for a type that does not exist.
CREATE FUNCTION mahalle.custom_column_type(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'text' THEN 'text' WHEN 'integer' THEN 'integer' WHEN 'number' THEN 'double precision'
    WHEN 'boolean' THEN 'boolean' WHEN 'date' THEN 'date' WHEN 'datetime' THEN 'timestamptz'
    WHEN 'choice' THEN 'text' WHEN 'choices' THEN 'text[]' WHEN 'reference' THEN 'bigint' END
$$;

-- One attribute's column and constraints, checked: (column definition, constraint definitions).
CREATE FUNCTION mahalle.custom_attribute_ddl(layer text, a jsonb, OUT col text, OUT checks text[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  aname text := a->>'name';
  kind text := a->>'type';
  coltype text := mahalle.custom_column_type(a->>'type');
  vals text[];
  prefix text;
BEGIN
  IF jsonb_typeof(a) <> 'object' OR jsonb_typeof(a->'name') IS DISTINCT FROM 'string'
     OR aname !~ '^[a-z][a-z0-9_]{0,47}$' THEN
    PERFORM mahalle.refuse_definition(format('Attribute name %L must start with a letter and use only a-z, 0-9 and _.',
                                             coalesce(a->>'name', '')));
  END IF;
  IF aname = ANY (ARRAY['id', 'uid', 'neighbourhood_id', 'geom', 'area_m2', 'length_m', 'version', 'created_at',
                        'created_by', 'updated_at', 'updated_by', 'source', 'source_id']) THEN
    PERFORM mahalle.refuse_definition(format('Attribute name %L is reserved by Mahalle.', aname));
  END IF;
  IF coltype IS NULL OR jsonb_typeof(a->'type') <> 'string' THEN
    PERFORM mahalle.refuse_definition(format('Attribute %L has unknown type %L.', aname, kind));
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(a) k WHERE k NOT IN ('name', 'type', 'label', 'required', 'choices',
               'default', 'unit', 'minimum', 'maximum', 'max_length', 'references', 'help'))
     OR jsonb_typeof(a->'label') IS DISTINCT FROM 'object'
     OR EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(a->'choices', '[]')) c
                 WHERE jsonb_typeof(c) <> 'object' OR jsonb_typeof(c->'label') IS DISTINCT FROM 'object'
                    OR EXISTS (SELECT 1 FROM jsonb_object_keys(c) k WHERE k NOT IN ('value', 'label', 'color'))) THEN
    PERFORM mahalle.refuse_definition(format('Attribute %L: it needs a name, a type and a label (a translation), '
                                             'and only the keys of an attribute.', aname));
  END IF;
  IF NOT (mahalle.is_translation(a->'label') AND mahalle.is_translation(a->'help')
          AND jsonb_typeof(coalesce(a->'unit', 'null')) IN ('string', 'null')
          AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(a->'choices', '[]')) c
                           WHERE NOT mahalle.is_translation(c->'label')
                              OR jsonb_typeof(coalesce(c->'color', 'null')) NOT IN ('string', 'null'))) THEN
    PERFORM mahalle.refuse_definition(format('Attribute %L: labels, help and unit are texts.', aname));
  END IF;
  IF jsonb_typeof(coalesce(a->'required', 'false')) <> 'boolean' THEN
    PERFORM mahalle.refuse_definition(format('Attribute %L: required is true or false.', aname));
  END IF;
  prefix := layer || '_' || aname;
  col := format('%I %s', aname, coltype);
  checks := ARRAY[]::text[];
  IF coalesce(a->'default', 'null') <> 'null' THEN
    -- (The CASE in parentheses: an IF condition ends at the first bare THEN.)
    IF jsonb_typeof(a->'default') IS DISTINCT FROM (CASE
         WHEN kind IN ('text', 'choice', 'date', 'datetime') THEN 'string' WHEN kind IN ('integer', 'number') THEN 'number'
         WHEN kind = 'boolean' THEN 'boolean' END) THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: the default is not a %s value.', aname, kind));
    END IF;
    -- A default must obey the attribute's own rules, or every row left at its default would be refused.
    IF (kind = 'choice' AND NOT (a->>'default' = ANY (ARRAY(SELECT c->>'value' FROM jsonb_array_elements(a->'choices') c))))
       OR (kind = 'text' AND jsonb_typeof(a->'max_length') = 'number'
           AND char_length(a->>'default') > (a->>'max_length')::numeric)
       OR (jsonb_typeof(a->'minimum') = 'number' AND (a->>'default')::numeric < (a->>'minimum')::numeric)
       OR (jsonb_typeof(a->'maximum') = 'number' AND (a->>'default')::numeric > (a->>'maximum')::numeric) THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: the default breaks the attribute''s own rules.', aname));
    END IF;
    col := col || format(' DEFAULT %L::%s', a->>'default', coltype);
  END IF;
  IF (a->>'required')::boolean THEN
    col := col || ' NOT NULL';
  END IF;
  IF kind IN ('choice', 'choices') THEN
    IF jsonb_typeof(a->'choices') <> 'array' OR jsonb_array_length(a->'choices') = 0 THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L is a value list but has no values.', aname));
    END IF;
    vals := ARRAY(SELECT c->>'value' FROM jsonb_array_elements(a->'choices') c);
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(a->'choices') c WHERE jsonb_typeof(c->'value') IS DISTINCT FROM 'string')
       OR cardinality(vals) <> (SELECT count(DISTINCT v) FROM unnest(vals) v) THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: the values of the list are distinct texts.', aname));
    END IF;
    checks := checks || CASE kind
      WHEN 'choice' THEN format('CONSTRAINT %I CHECK (%I = ANY (%L::text[]))', prefix || '_values', aname, vals)
      ELSE format('CONSTRAINT %I CHECK (%I <@ %L::text[])', prefix || '_values', aname, vals) END;
  END IF;
  IF coalesce(a->'minimum', 'null') <> 'null' OR coalesce(a->'maximum', 'null') <> 'null' THEN
    IF kind NOT IN ('integer', 'number') OR jsonb_typeof(coalesce(a->'minimum', 'null')) NOT IN ('number', 'null')
       OR jsonb_typeof(coalesce(a->'maximum', 'null')) NOT IN ('number', 'null') THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: minimum and maximum are numbers, for numbers.', aname));
    END IF;
    IF abs((a->>'minimum')::numeric) > 1e15 OR abs((a->>'maximum')::numeric) > 1e15 THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: minimum and maximum lie within ±10^15.', aname));
    END IF;
    IF (a->>'minimum')::numeric > (a->>'maximum')::numeric THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: the minimum is larger than the maximum.', aname));
    END IF;
    IF jsonb_typeof(a->'minimum') = 'number' THEN
      checks := checks || format('CONSTRAINT %I CHECK (%I >= %L::numeric)', prefix || '_min', aname, a->>'minimum');
    END IF;
    IF jsonb_typeof(a->'maximum') = 'number' THEN
      checks := checks || format('CONSTRAINT %I CHECK (%I <= %L::numeric)', prefix || '_max', aname, a->>'maximum');
    END IF;
  END IF;
  IF coalesce(a->'max_length', 'null') <> 'null' THEN
    IF kind <> 'text' OR jsonb_typeof(a->'max_length') <> 'number' OR (a->>'max_length') !~ '^[1-9][0-9]{0,5}$' THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L: max_length is a whole number, for text.', aname));
    END IF;
    checks := checks || format('CONSTRAINT %I CHECK (char_length(%I) <= %L::integer)',
                               prefix || '_length', aname, a->>'max_length');
  END IF;
  IF kind = 'reference' THEN
    IF jsonb_typeof(a->'references') IS DISTINCT FROM 'string' OR NOT EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = a->>'references') THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L refers to %L, which is not a layer.',
                                               aname, a->>'references'));
    END IF;
    checks := checks || format('CONSTRAINT %I FOREIGN KEY (%I) REFERENCES public.%I (id)',
                               prefix || '_fkey', aname, a->>'references');
  END IF;
END $$;

CREATE FUNCTION mahalle.create_custom_layer(spec jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  layer text := spec->>'name';
  gtype text := spec->>'geometry_type';
  measure text := spec->>'measure';
  items text[];
  a jsonb;
  part record;
  seen text[] := ARRAY[]::text[];
  spatial boolean;
BEGIN
  IF jsonb_typeof(spec) IS DISTINCT FROM 'object' OR jsonb_typeof(spec->'name') IS DISTINCT FROM 'string'
     OR layer !~ '^[a-z][a-z0-9_]{1,47}$' THEN
    PERFORM mahalle.refuse_definition(format(
      'Layer name %L must start with a letter and use only a-z, 0-9 and _ (2-48 characters).', spec->>'name'));
  END IF;
  IF NOT (mahalle.is_translation(spec->'title') AND mahalle.is_translation(spec->'description'))
     OR EXISTS (SELECT 1 FROM unnest(ARRAY['key_attribute', 'label_attribute', 'date_attribute']) k
                 WHERE jsonb_typeof(coalesce(spec->k, 'null')) NOT IN ('string', 'null')) THEN
    PERFORM mahalle.refuse_definition('The title and description are texts, the key, label and date attributes names.');
  END IF;
  IF spec->>'kind' IS DISTINCT FROM 'custom' THEN
    PERFORM mahalle.refuse_definition('Only custom layers can be created at run time.');
  END IF;
  IF to_regclass(format('public.%I', layer)) IS NOT NULL
     OR EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = layer) THEN
    PERFORM mahalle.refuse_definition(format('A layer or table named %L already exists.', layer));
  END IF;
  IF EXISTS (SELECT 1 FROM mahalle.history h WHERE h.layer = spec->>'name') THEN  -- (not "layer": a column too)
    PERFORM mahalle.refuse_definition(format(
      'A layer named %L existed before and its history is kept; choose another name.', layer));
  END IF;
  -- Exactly the keys the catalogue reads back (layers.spec.Layer.from_json): a definition it could not read would
  -- break every request that reads the catalogue.
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(spec) k WHERE k NOT IN ('name', 'title', 'description', 'geometry_type',
               'attributes', 'kind', 'measure', 'key_attribute', 'label_attribute', 'date_attribute',
               'geometry_required', 'neighbourhood_scoped', 'checks', 'unique'))
     OR NOT (spec ? 'title' AND spec ? 'description' AND spec ? 'geometry_type' AND spec ? 'attributes')
     OR jsonb_typeof(spec->'title') <> 'object' OR jsonb_typeof(spec->'description') <> 'object' THEN
    PERFORM mahalle.refuse_definition('The definition needs exactly name, title, description, geometry_type and '
                                      'attributes (and the optional keys of a layer), titles as translations.');
  END IF;
  IF jsonb_array_length(coalesce(spec->'checks', '[]')) > 0 OR jsonb_array_length(coalesce(spec->'unique', '[]')) > 0
     OR coalesce(spec->'neighbourhood_scoped', 'true') <> 'true'
     OR jsonb_typeof(coalesce(spec->'geometry_required', 'true')) <> 'boolean'
  THEN
    PERFORM mahalle.refuse_definition('A custom layer cannot declare checks, unique attributes or other table options.');
  END IF;
  IF jsonb_typeof(coalesce(spec->'geometry_type', 'null')) NOT IN ('string', 'null')
     OR jsonb_typeof(coalesce(spec->'measure', 'null')) NOT IN ('string', 'null') OR gtype NOT IN ('Point', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'Geometry') THEN
    PERFORM mahalle.refuse_definition(format('Geometry type %L is not one of Point, MultiPoint, MultiLineString, '
                                             'MultiPolygon, Geometry.', gtype));
  END IF;
  IF measure IS NOT NULL AND (gtype IS NULL OR measure NOT IN ('area', 'length', 'both')) THEN
    PERFORM mahalle.refuse_definition(format('Measure %L is not area, length or both of a geometry.', measure));
  END IF;
  IF jsonb_typeof(coalesce(spec->'attributes', '[]')) <> 'array' OR jsonb_array_length(spec->'attributes') > 100 THEN
    PERFORM mahalle.refuse_definition('The attributes are a list of at most 100.');
  END IF;
  spatial := gtype IS NOT NULL;

  items := ARRAY['id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY',
                 'uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE',
                 'neighbourhood_id bigint REFERENCES public.neighbourhoods (id)'];
  FOR a IN SELECT * FROM jsonb_array_elements(coalesce(spec->'attributes', '[]')) LOOP
    IF a->>'name' = ANY (seen) THEN
      PERFORM mahalle.refuse_definition(format('Attribute %L is declared twice.', a->>'name'));
    END IF;
    seen := seen || (a->>'name');
    part := mahalle.custom_attribute_ddl(layer, a);
    items := items || part.col;
  END LOOP;
  IF spatial THEN
    items := items || CASE WHEN coalesce(spec->'geometry_required', 'true') = 'true'
                           THEN 'geom public.geometry NOT NULL' ELSE 'geom public.geometry' END;
    IF measure IN ('area', 'both') THEN
      items := items || 'area_m2 double precision GENERATED ALWAYS AS (public.ST_Area(geom::public.geography)) STORED'::text;
    END IF;
    IF measure IN ('length', 'both') THEN
      items := items
        || 'length_m double precision GENERATED ALWAYS AS (public.ST_Length(geom::public.geography)) STORED'::text;
    END IF;
  END IF;
  items := items || ARRAY['version integer NOT NULL DEFAULT 1',
                          'created_at timestamptz NOT NULL DEFAULT now()',
                          'created_by text NOT NULL DEFAULT mahalle.actor()',
                          'updated_at timestamptz NOT NULL DEFAULT now()',
                          'updated_by text NOT NULL DEFAULT mahalle.actor()',
                          'source text', 'source_id text',
                          format('CONSTRAINT %I UNIQUE (source, source_id)', layer || '_source_key')];
  FOR a IN SELECT * FROM jsonb_array_elements(coalesce(spec->'attributes', '[]')) LOOP
    items := items || (mahalle.custom_attribute_ddl(layer, a)).checks;
  END LOOP;
  IF spatial THEN
    -- Named and shaped the way PostGIS' geometry_columns reads them, so QGIS sees type and SRID.
    items := items || ARRAY['CONSTRAINT enforce_srid_geom CHECK (public.st_srid(geom) = 4326)',
                            'CONSTRAINT enforce_dims_geom CHECK (public.st_ndims(geom) = 2)',
                            format('CONSTRAINT %I CHECK (public.st_isvalid(geom))', layer || '_geom_valid'),
                            CASE gtype WHEN 'Geometry'
                              THEN 'CONSTRAINT enforce_geotype_geom CHECK (public.geometrytype(geom) <> ''GEOMETRYCOLLECTION'')'
                              ELSE format('CONSTRAINT enforce_geotype_geom CHECK (public.geometrytype(geom) = %L)',
                                          upper(gtype)) END];
  END IF;
  EXECUTE format('CREATE TABLE public.%I (%s)', layer, array_to_string(items, ', '));

  EXECUTE format('CREATE TRIGGER a10_validate BEFORE INSERT OR UPDATE ON public.%I '
                 'FOR EACH ROW EXECUTE FUNCTION mahalle.validate_custom()', layer);
  EXECUTE format('CREATE TRIGGER a30_stamp BEFORE INSERT OR UPDATE ON public.%I '
                 'FOR EACH ROW EXECUTE FUNCTION mahalle.stamp_row()', layer);
  IF spatial THEN
    EXECUTE format('CREATE TRIGGER a20_neighbourhood BEFORE INSERT OR UPDATE ON public.%I '
                   'FOR EACH ROW EXECUTE FUNCTION mahalle.derive_neighbourhood()', layer);
  END IF;
  PERFORM mahalle.custom_history_triggers(layer, spatial);

  IF spatial THEN
    EXECUTE format('CREATE INDEX %I ON public.%I USING gist (geom)', layer || '_geom_idx', layer);
  END IF;
  EXECUTE format('CREATE INDEX %I ON public.%I (neighbourhood_id)', layer || '_neighbourhood_idx', layer);
  FOR a IN SELECT * FROM jsonb_array_elements(coalesce(spec->'attributes', '[]')) WHERE value->>'type' = 'reference'
  LOOP
    EXECUTE format('CREATE INDEX %I ON public.%I (%I)', layer || '_' || (a->>'name') || '_idx', layer, a->>'name');
  END LOOP;
  EXECUTE format('CREATE INDEX %I ON public.%I (updated_at)', layer || '_updated_idx', layer);
  INSERT INTO mahalle.layer_registry (name, kind, spec) VALUES (layer, 'custom', spec);
END $$;

-- The statement-level history triggers of a custom layer, on the generic history functions.
CREATE FUNCTION mahalle.custom_history_triggers(layer text, spatial boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  fn text := CASE WHEN spatial THEN 'history_custom_spatial' ELSE 'history_custom_plain' END;
  ev record;
BEGIN
  FOR ev IN SELECT * FROM (VALUES ('insert', 'NEW TABLE AS new_rows'),
                                  ('update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                                  ('delete', 'OLD TABLE AS old_rows')) e(event, transition) LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'z90_history_' || ev.event, layer);
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON public.%I REFERENCING %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION mahalle.%I()', 'z90_history_' || ev.event, upper(ev.event), layer,
                   ev.transition, fn);
  END LOOP;
END $$;

CREATE FUNCTION mahalle.drop_custom_layer(layer text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  kind text;
BEGIN
  SELECT r.kind INTO kind FROM mahalle.layer_registry r WHERE r.name = layer;
  IF kind IS NULL THEN
    PERFORM mahalle.refuse_definition(format('There is no layer named %L.', layer));
  ELSIF kind <> 'custom' THEN
    PERFORM mahalle.refuse_definition(format('%L is a core layer and cannot be dropped.', layer));
  END IF;
  -- Nothing may point at it any more: plan links (which no foreign key guards) and other custom layers'
  -- reference attributes (RESTRICT refuses the drop rather than silently removing their foreign keys).
  IF EXISTS (SELECT 1 FROM public.intervention_targets t WHERE t.layer = drop_custom_layer.layer)
     OR EXISTS (SELECT 1 FROM public.task_links t WHERE t.layer = drop_custom_layer.layer) THEN
    PERFORM mahalle.refuse_definition(format(
      'Layer %L cannot be dropped: interventions or tasks are linked to its features; remove those links first.', layer));
  END IF;
  IF EXISTS (SELECT 1 FROM mahalle.layer_registry r, jsonb_array_elements(r.spec->'attributes') a
              WHERE r.name <> drop_custom_layer.layer AND a->>'type' = 'reference' AND a->>'references' = drop_custom_layer.layer) THEN
    PERFORM mahalle.refuse_definition(format(
      'Layer %L cannot be dropped: another layer has an attribute that refers to it.', layer));
  END IF;
  EXECUTE format('DROP TABLE IF EXISTS public.%I RESTRICT', layer);
  DELETE FROM mahalle.layer_registry r WHERE r.name = layer;
END $$;

-- Only the roles the owner grants it to (the application role) may create and drop layers.
REVOKE ALL ON FUNCTION mahalle.create_custom_layer(jsonb), mahalle.drop_custom_layer(text),
                       mahalle.custom_attribute_ddl(text, jsonb), mahalle.custom_history_triggers(text, boolean)
  FROM PUBLIC;
