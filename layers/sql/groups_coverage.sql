-- Groups of neighbourhoods and coverage distances (migration 0010).
--
-- A named group of neighbourhoods (a municipality, a programme's cities) lets reports and indicators roll up over
-- several neighbourhoods at once. Coverage rules say, per service category, how far a home may be from the service
-- and still count as served, measured along the street network where there is one (pgRouting) and as a straight
-- line otherwise. Both are the office's settings: everyone reads them, only administrators of every neighbourhood
-- change them (42501 otherwise, for QGIS logins too).

CREATE TABLE public.neighbourhood_groups (
  code text PRIMARY KEY
    CONSTRAINT neighbourhood_groups_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$'),
  name text NOT NULL CONSTRAINT neighbourhood_groups_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  kind text NOT NULL DEFAULT 'programme'
    CONSTRAINT neighbourhood_groups_kind CHECK (kind IN ('municipality', 'programme', 'other')),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL DEFAULT mahalle.actor()
);

CREATE TABLE public.neighbourhood_group_members (
  group_code text NOT NULL REFERENCES public.neighbourhood_groups (code) ON DELETE CASCADE ON UPDATE CASCADE,
  neighbourhood_id bigint NOT NULL REFERENCES public.neighbourhoods (id) ON DELETE CASCADE,
  PRIMARY KEY (group_code, neighbourhood_id)
);
CREATE INDEX neighbourhood_group_members_neighbourhood ON public.neighbourhood_group_members (neighbourhood_id);

-- Service categories that coverage can be measured for: the catalogue's service point categories, and `park`
-- (parcels whose land use is park).
CREATE FUNCTION mahalle.coverage_categories() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_prepend('park', coalesce(array_agg(c ->> 'value' ORDER BY o), '{}'))
    FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a,
         jsonb_array_elements(a -> 'choices') WITH ORDINALITY x(c, o)
   WHERE r.name = 'service_points' AND a ->> 'name' = 'category'
$$;

CREATE TABLE public.coverage_rules (
  category text PRIMARY KEY,
  distance_m double precision NOT NULL
    CONSTRAINT coverage_rules_distance_range CHECK (distance_m > 0 AND distance_m <= 20000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT mahalle.actor()
);

CREATE FUNCTION mahalle.check_coverage_rule() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT NEW.category = ANY (mahalle.coverage_categories()) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'category',
      MESSAGE = format('coverage_rules: %L is not a service category; use one of: %s', NEW.category,
                       array_to_string(mahalle.coverage_categories(), ', '));
  END IF;
  IF NEW.distance_m IS NULL OR NEW.distance_m <= 0 OR NEW.distance_m > 20000 THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'distance_m',
      MESSAGE = format('coverage_rules: the distance for %s must be more than 0 m and at most 20 000 m (got %s)',
                       NEW.category, NEW.distance_m);
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

CREATE TRIGGER a05_check BEFORE INSERT OR UPDATE ON public.coverage_rules
  FOR EACH ROW EXECUTE FUNCTION mahalle.check_coverage_rule();

-- The office's settings: administrators of every neighbourhood only (the app checks too; this holds for logins).
CREATE FUNCTION mahalle.office_settings_admin() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM mahalle.require_admin(CASE TG_TABLE_NAME WHEN 'coverage_rules' THEN 'change coverage distances'
                                ELSE 'change groups of neighbourhoods' END);
  RETURN NULL;
END $$;

CREATE TRIGGER z05_admin AFTER INSERT OR UPDATE OR DELETE ON public.neighbourhood_groups
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.office_settings_admin();
CREATE TRIGGER z05_admin AFTER INSERT OR UPDATE OR DELETE ON public.neighbourhood_group_members
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.office_settings_admin();
CREATE TRIGGER z05_admin AFTER INSERT OR UPDATE OR DELETE ON public.coverage_rules
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.office_settings_admin();

-- The distances the indicators used before (300 m to a park, 500 m to a school or a clinic or hospital).
INSERT INTO public.coverage_rules (category, distance_m)
SELECT c, d FROM (VALUES ('park', 300), ('school', 500), ('clinic', 500), ('hospital', 500)) v(c, d)
 WHERE c = ANY (mahalle.coverage_categories());
