-- Plausibility rules (migration 0014): limits per layer that catch a slip of the hand or a wrong import before it
-- lands, for every writer (the app, the importers, QGIS and psql through a person's own login).
--
--   max_length           a line may be at most `value` metres long (the whole feature, measured on the ellipsoid)
--   max_area             a polygon may cover at most `value` square metres
--   near_neighbourhoods  a feature must lie within `value` metres of some neighbourhood (when there are any)
--   keep_neighbourhood   a feature that lay in a neighbourhood may not be moved to where it lies in none, unless
--                        its neighbourhood is changed in the same edit (on purpose); no value
--
-- The office's settings: everyone reads them, only administrators of every neighbourhood change them (42501
-- otherwise, for database logins too). A rule that is missing or disabled is not applied. A refusal is 23514 with
-- the rule code of migration 0012 in its DETAIL: line_too_long, area_too_large, outside_extent, left_neighbourhood.

CREATE TABLE public.plausibility_rules (
  layer text NOT NULL REFERENCES mahalle.layer_registry (name) ON DELETE CASCADE ON UPDATE CASCADE,
  rule text NOT NULL CONSTRAINT plausibility_rules_rule
    CHECK (rule IN ('max_length', 'max_area', 'near_neighbourhoods', 'keep_neighbourhood')),
  value double precision,
  enabled boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT mahalle.actor(),
  PRIMARY KEY (layer, rule)
);

-- What a layer's table can be checked for: its geometry type (NULL: no geometry) and whether it has a neighbourhood.
CREATE FUNCTION mahalle.plausibility_target(layer text, OUT geometry_type text, OUT scoped boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT (SELECT upper(g.type) FROM public.geometry_columns g
           WHERE g.f_table_schema = 'public' AND g.f_table_name = layer AND g.f_geometry_column = 'geom'),
         EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = to_regclass(format('public.%I', layer)) AND a.attname = 'neighbourhood_id'
                    AND a.attnum > 0 AND NOT a.attisdropped)
$$;

CREATE FUNCTION mahalle.check_plausibility_rule() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target record;
  said text := format('plausibility_rules: %s of %s', NEW.rule, NEW.layer);
  top double precision := CASE NEW.rule WHEN 'max_area' THEN 1e10 ELSE 1e6 END;
BEGIN
  IF NEW.rule IS NULL OR NEW.rule NOT IN ('max_length', 'max_area', 'near_neighbourhoods', 'keep_neighbourhood') THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'rule', MESSAGE = format(
      'plausibility_rules: %L is not a plausibility rule; use one of: max_length, max_area, near_neighbourhoods, '
      'keep_neighbourhood', NEW.rule);
  END IF;
  SELECT * INTO target FROM mahalle.plausibility_target(NEW.layer);
  IF target.geometry_type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'layer',
      MESSAGE = format('plausibility_rules: %L is not a layer with geometries', NEW.layer);
  END IF;
  IF (NEW.rule = 'max_length' AND target.geometry_type NOT IN ('LINESTRING', 'MULTILINESTRING', 'GEOMETRY'))
     OR (NEW.rule = 'max_area' AND target.geometry_type NOT IN ('POLYGON', 'MULTIPOLYGON', 'GEOMETRY'))
     OR (NEW.rule IN ('near_neighbourhoods', 'keep_neighbourhood') AND NOT target.scoped) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'rule', MESSAGE = format(
      '%s: the rule does not apply to this layer (%s geometries%s); max_length is for lines, max_area for polygons, '
      'near_neighbourhoods and keep_neighbourhood for layers whose features belong to a neighbourhood',
      said, lower(target.geometry_type), CASE WHEN target.scoped THEN '' ELSE ', no neighbourhood' END);
  END IF;
  IF NEW.rule = 'keep_neighbourhood' AND NEW.value IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'value',
      MESSAGE = format('%s: this rule takes no value (got %s)', said, NEW.value);
  END IF;
  IF NEW.rule <> 'keep_neighbourhood' AND (NEW.value IS NULL OR NOT (NEW.value >= 0 AND NEW.value <= top)
                                           OR (NEW.value = 0 AND NEW.rule <> 'near_neighbourhoods')) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'value', MESSAGE = format(
      '%s: the limit must be a number of %s, more than 0 (0 allowed for near_neighbourhoods) and at most %s (got %s)',
      said, CASE NEW.rule WHEN 'max_area' THEN 'square metres' ELSE 'metres' END,
      to_char(top, 'FM999,999,999,999'), coalesce(NEW.value::text, 'none'));
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

CREATE TRIGGER a05_check BEFORE INSERT OR UPDATE ON public.plausibility_rules
  FOR EACH ROW EXECUTE FUNCTION mahalle.check_plausibility_rule();

-- The office's settings: administrators of every neighbourhood only (as mahalle.office_settings_admin, 0010).
CREATE FUNCTION mahalle.plausibility_admin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mahalle.require_admin('change plausibility rules');
  RETURN NULL;
END $$;

CREATE TRIGGER z05_admin AFTER INSERT OR UPDATE OR DELETE ON public.plausibility_rules
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.plausibility_admin();

-- The first rule a geometry breaks on a layer, as {rule, params, message} (NULL: plausible). `was` is the
-- neighbourhood the feature lay in before an edit that keeps it (NULL for a new feature or one whose neighbourhood
-- the edit changes). Shared by the trigger below and the importers' set-based check of their staged rows
-- (importers/plausible.py), so an import rejects the rows one by one with the same words the trigger would use.
CREATE FUNCTION mahalle.plausibility_problem(layer text, g geometry, was bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r record;
  measured double precision;
BEGIN
  IF g IS NULL THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT p.rule, p.value FROM public.plausibility_rules p
            WHERE p.layer = plausibility_problem.layer AND p.enabled ORDER BY p.rule LOOP
    IF r.rule = 'max_length' AND ST_Dimension(g) = 1 THEN
      measured := ST_Length(g::geography);
      IF measured > r.value THEN
        RETURN jsonb_build_object('rule', 'line_too_long', 'params', jsonb_build_object(
            'layer', layer, 'length_m', round(measured::numeric), 'max_m', r.value),
          'message', format('the line is %s m long; this layer''s plausibility rule allows at most %s m '
                            '(an administrator sets it)', round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'max_area' AND ST_Dimension(g) = 2 THEN
      measured := ST_Area(g::geography);
      IF measured > r.value THEN
        RETURN jsonb_build_object('rule', 'area_too_large', 'params', jsonb_build_object(
            'layer', layer, 'area_m2', round(measured::numeric), 'max_m2', r.value),
          'message', format('the area is %s m²; this layer''s plausibility rule allows at most %s m² '
                            '(an administrator sets it)', round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'near_neighbourhoods' THEN
      -- Inside or touching a neighbourhood (the GiST index answers) is near enough; the distance only otherwise.
      IF EXISTS (SELECT 1 FROM public.neighbourhoods)
         AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_Intersects(n.geom, g))
         AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n
                          WHERE ST_DWithin(n.geom::geography, g::geography, r.value)) THEN
        SELECT min(ST_Distance(n.geom::geography, g::geography)) INTO measured FROM public.neighbourhoods n;
        RETURN jsonb_build_object('rule', 'outside_extent', 'params', jsonb_build_object(
            'layer', layer, 'distance_m', round(measured::numeric), 'max_m', r.value),
          'message', format('the feature lies %s m from the nearest neighbourhood; this layer''s plausibility rule '
                            'allows at most %s m (is it in the right place, or the right coordinate system?)',
                            round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'keep_neighbourhood' AND was IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_Intersects(n.geom, g)) THEN
      RETURN jsonb_build_object('rule', 'left_neighbourhood', 'params', jsonb_build_object(
          'layer', layer, 'neighbourhood', (SELECT x.name FROM public.neighbourhoods x WHERE x.id = was),
          'code', (SELECT x.code FROM public.neighbourhoods x WHERE x.id = was)),
        'message', format('the feature would lie outside every neighbourhood (it was in %s); move it into a '
                          'neighbourhood, or set its neighbourhood to none in the same edit if it really lies '
                          'outside', mahalle.place_name(was)));
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- BEFORE INSERT OR UPDATE on every spatial layer (a15: after a10_validate has prepared the geometry, before
-- a20_neighbourhood derives the neighbourhood again). Nothing to do unless the geometry changed.
CREATE FUNCTION mahalle.check_plausibility() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was bigint;
  problem jsonb;
BEGIN
  IF NEW.geom IS NULL OR (TG_OP = 'UPDATE' AND NEW.geom IS NOT DISTINCT FROM OLD.geom) THEN
    RETURN NEW;
  END IF;
  -- keep_neighbourhood is allowed only on layers with the column, so OLD.neighbourhood_id is read only there.
  IF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM public.plausibility_rules p WHERE p.layer = TG_TABLE_NAME
                                     AND p.rule = 'keep_neighbourhood' AND p.enabled) THEN
    IF NEW.neighbourhood_id IS NOT DISTINCT FROM OLD.neighbourhood_id THEN
      was := OLD.neighbourhood_id;
    END IF;
  END IF;
  problem := mahalle.plausibility_problem(TG_TABLE_NAME, NEW.geom, was);
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'geom', MESSAGE = format('%s %s: %s', TG_TABLE_NAME,
      CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END, problem->>'message'),
      DETAIL = (problem - 'message')::text;
  END IF;
  RETURN NEW;
END $$;

-- Puts the check on a layer's table (those with a geometry column; again is harmless).
CREATE FUNCTION mahalle.add_plausibility_trigger(layer text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF (mahalle.plausibility_target(layer)).geometry_type IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER IF EXISTS a15_plausibility ON public.%I', layer);
    EXECUTE format('CREATE TRIGGER a15_plausibility BEFORE INSERT OR UPDATE ON public.%I '
                   'FOR EACH ROW EXECUTE FUNCTION mahalle.check_plausibility()', layer);
  END IF;
END $$;

-- A custom layer gets the check as it is registered (mahalle.create_custom_layer makes the table first), and the
-- neighbourhood rules by default, as the core layers do.
CREATE FUNCTION mahalle.plausibility_registered_layer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (mahalle.plausibility_target(NEW.name)).geometry_type IS NOT NULL THEN
    PERFORM mahalle.add_plausibility_trigger(NEW.name);
    IF NEW.kind = 'custom' AND (mahalle.plausibility_target(NEW.name)).scoped THEN
      INSERT INTO public.plausibility_rules (layer, rule, value)
      VALUES (NEW.name, 'near_neighbourhoods', 5000), (NEW.name, 'keep_neighbourhood', NULL)
      ON CONFLICT DO NOTHING;
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER z30_plausibility AFTER INSERT ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.plausibility_registered_layer();

SELECT mahalle.add_plausibility_trigger(name) FROM mahalle.layer_registry ORDER BY name;

-- The defaults: well above what real streets and parcels measure (the demo's longest street is ~650 m, its
-- largest parcel ~14 ha; a park or a cemetery may be tens of hectares), well below a feature dragged across the
-- map.
INSERT INTO public.plausibility_rules (layer, rule, value)
SELECT v.layer, v.rule, v.value
  FROM (VALUES ('streets', 'max_length', 2000::double precision),
               ('parcels', 'max_area', 1000000),
               ('blighted_plots', 'max_area', 100000)) v(layer, rule, value)
 WHERE EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = v.layer);
INSERT INTO public.plausibility_rules (layer, rule, value)
SELECT r.name, x.rule, x.value
  FROM mahalle.layer_registry r,
       (VALUES ('near_neighbourhoods', 5000::double precision), ('keep_neighbourhood', NULL)) x(rule, value)
 WHERE (mahalle.plausibility_target(r.name)).geometry_type IS NOT NULL AND (mahalle.plausibility_target(r.name)).scoped
 ORDER BY r.name, x.rule;

REVOKE ALL ON FUNCTION mahalle.add_plausibility_trigger(text) FROM PUBLIC;
SELECT mahalle.secure_trigger_functions();
