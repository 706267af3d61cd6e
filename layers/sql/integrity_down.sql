-- Undo integrity.sql: the guard on linked deletes goes; stamp_row, intervention_delete and restore_feature are
-- as foundation.sql and planning_rules.sql made them.
DROP TRIGGER IF EXISTS z10_guard_layer ON mahalle.layer_registry;
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'z10_refuse_linked_delete' LOOP
    EXECUTE format('DROP TRIGGER z10_refuse_linked_delete ON %s', t);
  END LOOP;
END $$;
DROP FUNCTION IF EXISTS mahalle.guard_registered_layer();
DROP FUNCTION IF EXISTS mahalle.guard_layer_deletes(text);
DROP FUNCTION IF EXISTS mahalle.refuse_linked_delete();

CREATE OR REPLACE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION mahalle.intervention_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM public.assets WHERE intervention_id = OLD.id;
  IF n > 0 THEN
    IF NOT mahalle.cascade_requested() THEN
      RAISE EXCEPTION USING ERRCODE = '23503',
        MESSAGE = format('interventions feature %s installed %s assets; delete them first, or delete with cascade '
                         '(which removes them too and keeps everything in the history)', OLD.id, n);
    END IF;
    IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
      PERFORM set_config('mahalle.cause', format('intervention %s deleted with cascade', OLD.id), true);
    END IF;
    DELETE FROM public.assets WHERE intervention_id = OLD.id;
  END IF;
  DELETE FROM public.task_links WHERE layer = 'interventions' AND feature_id = OLD.id;  -- would dangle
  RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION mahalle.restore_feature(_layer text, _id bigint, _version integer DEFAULT NULL)
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


-- The link check without its lock.
CREATE OR REPLACE FUNCTION mahalle.check_feature_link() RETURNS trigger LANGUAGE plpgsql AS $$
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
