-- Value lists the office can change (migration 0013): the entries of every value list of the catalogue's layers
-- (intervention kinds, service categories, kinds of output …), with their labels in each language, a colour, an
-- order, and whether they are retired. The catalogue's own entries are seeded by the migrations
-- (layers/vocabulary.py); administrators of every neighbourhood add, translate and retire entries at run time (the
-- web app's administration page, `mahalle vocabulary`, or SQL). An entry in use cannot be removed, only retired; a
-- retired entry stays valid on the rows that have it and is refused for new values.
--
-- The layers' validation functions (layers/ddl.py) ask mahalle.value_allowed / values_allowed, so the rules hold
-- for QGIS and psql writers too. SQLSTATEs: 23514 for a bad entry, 23M02 for removing one in use (409 in the API),
-- 42501 for anyone but an administrator of every neighbourhood.

CREATE TABLE mahalle.vocabulary (
  layer text NOT NULL,
  attribute text NOT NULL,
  value text NOT NULL CONSTRAINT vocabulary_value_format CHECK (value ~ '^[a-z][a-z0-9_]{0,62}$'),
  label jsonb NOT NULL DEFAULT '{}' CONSTRAINT vocabulary_label_object CHECK (jsonb_typeof(label) = 'object'),
  color text CONSTRAINT vocabulary_color_format CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
  position integer NOT NULL DEFAULT 1000,
  retired boolean NOT NULL DEFAULT false,
  origin text NOT NULL DEFAULT 'office' CONSTRAINT vocabulary_origin CHECK (origin IN ('catalogue', 'office')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT mahalle.actor(),
  PRIMARY KEY (layer, attribute, value)
);

-- Whether `value` may be written to layer.attribute: an entry of the list not retired, or the value the row
-- already has (a retired entry stays on the rows that have it).
CREATE FUNCTION mahalle.value_allowed(_layer text, _attribute text, _value text, _kept text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT _value IS NULL OR _value IS NOT DISTINCT FROM _kept
      OR EXISTS (SELECT 1 FROM mahalle.vocabulary v
                  WHERE v.layer = _layer AND v.attribute = _attribute AND v.value = _value AND NOT v.retired)
$$;

-- The same for a multi-valued attribute: every value is allowed, or was there already.
CREATE FUNCTION mahalle.values_allowed(_layer text, _attribute text, _values text[], _kept text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT _values IS NULL OR NOT EXISTS (
    SELECT 1 FROM unnest(_values) x
     WHERE NOT x = ANY (coalesce(_kept, '{}'))
       AND NOT EXISTS (SELECT 1 FROM mahalle.vocabulary v
                        WHERE v.layer = _layer AND v.attribute = _attribute AND v.value = x AND NOT v.retired))
$$;

-- The entries a new value may take, in the list's order (for messages and the functions below).
CREATE FUNCTION mahalle.allowed_values(_layer text, _attribute text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(v.value ORDER BY v.position, v.value), '{}') FROM mahalle.vocabulary v
   WHERE v.layer = _layer AND v.attribute = _attribute AND NOT v.retired
$$;

-- Kinds of output and service categories (targets of tasks, coverage distances) follow the lists.
CREATE OR REPLACE FUNCTION mahalle.output_kinds() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT mahalle.allowed_values('outputs', 'kind')
$$;
CREATE OR REPLACE FUNCTION mahalle.coverage_categories() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_prepend('park', mahalle.allowed_values('service_points', 'category'))
$$;

-- BEFORE INSERT OR UPDATE: an entry of a value list the catalogue has, with labels as {language: text}; the
-- catalogue's own entries keep their value (code relies on them).
CREATE FUNCTION mahalle.check_vocabulary() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  bad text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a
                  WHERE r.name = NEW.layer AND r.kind <> 'custom' AND a ->> 'name' = NEW.attribute
                    AND a ->> 'type' IN ('choice', 'choices')) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'attribute',
      MESSAGE = format('vocabulary: %s.%s is not a value list of the catalogue', NEW.layer, NEW.attribute);
  END IF;
  IF (TG_OP = 'INSERT' AND NEW.origin = 'office' OR NEW.retired)
     AND EXISTS (SELECT 1 FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a
                  WHERE r.name = NEW.layer AND a ->> 'name' = NEW.attribute AND (a ->> 'fixed')::boolean) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'value',
      MESSAGE = format('vocabulary: %s.%s is a lifecycle the application follows: its entries can be translated, '
                       'not added or retired', NEW.layer, NEW.attribute);
  END IF;
  IF NEW.value !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'value',
      MESSAGE = format('vocabulary: %L is not a usable value: lower-case letters, digits and _, starting with a letter',
                       NEW.value);
  END IF;
  SELECT k INTO bad FROM jsonb_each(NEW.label) e(k, v)
   WHERE k !~ '^[a-z]{2}$' OR jsonb_typeof(v) <> 'string' OR char_length(v #>> '{}') NOT BETWEEN 1 AND 200 LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'label',
      MESSAGE = format('vocabulary: the label %L must be a language code with a text of 1 to 200 characters', bad);
  END IF;
  IF coalesce(NEW.label ->> 'en', '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'label',
      MESSAGE = format('vocabulary: %s needs an English label (the one shown when a language has none)', NEW.value);
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.origin = 'catalogue'
     AND (NEW.value, NEW.layer, NEW.attribute, NEW.origin) IS DISTINCT FROM (OLD.value, OLD.layer, OLD.attribute, OLD.origin) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'value',
      MESSAGE = format('vocabulary: %s is an entry of the catalogue; translate or retire it, it cannot be renamed',
                       OLD.value);
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

CREATE TRIGGER a05_check BEFORE INSERT OR UPDATE ON mahalle.vocabulary
  FOR EACH ROW EXECUTE FUNCTION mahalle.check_vocabulary();

-- BEFORE DELETE: an entry in use (by any row of its layer) or of the catalogue is retired instead (a list the
-- catalogue no longer has, or a column gone, has no rows using it).
CREATE FUNCTION mahalle.vocabulary_delete() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  multi boolean;
  used bigint;
BEGIN
  IF OLD.origin = 'catalogue' THEN
    RAISE EXCEPTION USING ERRCODE = '23M02', COLUMN = 'value',
      MESSAGE = format('%s is an entry of the catalogue: it cannot be removed, only retired', OLD.value);
  END IF;
  SELECT a ->> 'type' = 'choices' INTO multi
    FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a
   WHERE r.name = OLD.layer AND a ->> 'name' = OLD.attribute;
  IF multi IS NOT NULL AND EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 'public'
                                     AND c.table_name = OLD.layer AND c.column_name = OLD.attribute) THEN
    EXECUTE format(CASE WHEN multi THEN 'SELECT count(*) FROM public.%I WHERE $1 = ANY (%I)'
                        ELSE 'SELECT count(*) FROM public.%I WHERE %I = $1' END, OLD.layer, OLD.attribute)
      INTO used USING OLD.value;
  END IF;
  IF coalesce(used, 0) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = '23M02', COLUMN = 'value',
      MESSAGE = format('%s is used by %s %s features: it cannot be removed, only retired', OLD.value, used,
                       OLD.layer);
  END IF;
  RETURN OLD;
END $$;

CREATE TRIGGER a05_delete BEFORE DELETE ON mahalle.vocabulary
  FOR EACH ROW EXECUTE FUNCTION mahalle.vocabulary_delete();

-- Administrators of every neighbourhood only (the migrations, as the owner, seed the catalogue's entries).
CREATE FUNCTION mahalle.vocabulary_admin() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM mahalle.require_admin('change value lists');
  RETURN NULL;
END $$;

CREATE TRIGGER z05_admin AFTER INSERT OR UPDATE OR DELETE ON mahalle.vocabulary
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.vocabulary_admin();

-- Running servers cache the catalogue, value lists included.
CREATE TRIGGER z99_notify_metadata AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mahalle.vocabulary
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_metadata();

SELECT mahalle.secure_trigger_functions();
