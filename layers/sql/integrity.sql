-- Integrity in the database (migration 0005): rules that hold whoever edits — the API, an importer, QGIS
-- connected straight to PostGIS.
--
-- SQLSTATEs (turned into errors by core.db.attributed, answered by api/problems.py): 23M02 = a delete refused
-- because intervention targets or task links name the row (409, "has dependents"); 23M03 = a restore whose uid
-- another feature took meanwhile (409). 23M01 (planning_rules.sql) is a lifecycle transition the database does not allow.

-- Version stamp: a change that changes nothing a person can see writes no new version ----------------------

-- BEFORE INSERT OR UPDATE, after every other BEFORE trigger (a30 sorts last), so it sees the row as it will be
-- stored. The columns the database owns (version, created_*, updated_*) are taken from the stored row whatever
-- the statement said: QGIS sends them back when a planner types into them. When nothing else changed either,
-- the row keeps its version and stamps, and the history's UPDATE statement (which writes a row only when the
-- version moved) records nothing, so a no-op edit never makes someone else's If-Match stale.
CREATE OR REPLACE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- Owned and generated columns, left out of the comparison (keys a table lacks are ignored; generated
  -- columns read NULL in NEW before they are computed).
  owned constant jsonb := '{"version": null, "created_at": null, "created_by": null, "updated_at": null,
                            "updated_by": null, "area_m2": null, "length_m": null}';
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF coalesce(current_setting('mahalle.restoring', true), '') <> 'on' THEN
      NEW.version := 1;
      NEW.created_at := now();
      NEW.created_by := mahalle.actor();
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := mahalle.actor();
    RETURN NEW;
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.uid IS DISTINCT FROM OLD.uid THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('%s feature %s: the id and uid of a feature cannot be changed', TG_TABLE_NAME, OLD.id);
  END IF;
  NEW.version := OLD.version;
  NEW.created_at := OLD.created_at;
  NEW.created_by := OLD.created_by;
  NEW.updated_at := OLD.updated_at;
  NEW.updated_by := OLD.updated_by;
  IF jsonb_populate_record(NEW, owned) IS NOT DISTINCT FROM jsonb_populate_record(OLD, owned) THEN
    RETURN NEW;  -- nothing changed: same version, same stamps, no history row
  END IF;
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

-- Deleting a feature that planning rows name --------------------------------------------------------------

-- AFTER DELETE, per statement, on every layer: intervention_targets and task_links name features by layer and
-- id (no foreign key can), so this refuses the delete while they do, naming them in a planner's words. With a
-- cascade asked for (SET LOCAL mahalle.cascade = on, as the planning API's ?cascade=true does) the links go
-- too, each with its history row.
CREATE FUNCTION mahalle.refuse_linked_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  linked bigint;
  first bigint;
  deleted bigint;
  said text;
  n bigint;
BEGIN
  SELECT count(DISTINCT d.feature_id), min(d.feature_id) INTO linked, first
    FROM (SELECT t.feature_id FROM old_rows o
            JOIN public.intervention_targets t ON t.layer = TG_TABLE_NAME AND t.feature_id = o.id
          UNION ALL
          SELECT l.feature_id FROM old_rows o
            JOIN public.task_links l ON l.layer = TG_TABLE_NAME AND l.feature_id = o.id) d;
  IF linked = 0 THEN
    RETURN NULL;
  END IF;
  IF mahalle.cascade_requested() THEN
    IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
      SELECT count(*) INTO deleted FROM old_rows;
      PERFORM set_config('mahalle.cause', CASE
        WHEN deleted > 1 THEN format('%s %s features deleted with cascade', deleted, TG_TABLE_NAME)
        WHEN TG_TABLE_NAME = 'interventions' THEN format('intervention %s deleted with cascade', first)
        WHEN TG_TABLE_NAME = 'tasks' THEN format('task %s deleted with cascade', first)
        ELSE format('%s feature %s deleted with cascade', TG_TABLE_NAME, first) END, true);
    END IF;
    DELETE FROM public.intervention_targets t USING old_rows o WHERE t.layer = TG_TABLE_NAME AND t.feature_id = o.id;
    DELETE FROM public.task_links l USING old_rows o WHERE l.layer = TG_TABLE_NAME AND l.feature_id = o.id;
    RETURN NULL;
  END IF;
  SELECT string_agg(d.what, '; ' ORDER BY d.rn) FILTER (WHERE d.rn <= 5), count(*) INTO said, n
    FROM (SELECT x.what, row_number() OVER (ORDER BY x.ord, x.owner) AS rn
            FROM (SELECT 1 AS ord, i.id AS owner, format('intervention %s ''%s'' targets it', i.id, i.title) AS what
                    FROM public.intervention_targets t JOIN public.interventions i ON i.id = t.intervention_id
                   WHERE t.layer = TG_TABLE_NAME AND t.feature_id = first
                  UNION ALL
                  SELECT 2, k.id, format('task %s ''%s'' links it', k.id, k.title)
                    FROM public.task_links l JOIN public.tasks k ON k.id = l.task_id
                   WHERE l.layer = TG_TABLE_NAME AND l.feature_id = first) x) d;
  IF n > 5 THEN
    said := said || format('; and %s more', n - 5);
  END IF;
  RAISE EXCEPTION USING ERRCODE = '23M02',
    MESSAGE = format('%s feature %s cannot be deleted: %s. Remove those links first.', TG_TABLE_NAME, first, said)
      || CASE WHEN linked > 1 THEN format(' %s more of the features being deleted are linked too.', linked - 1)
              ELSE '' END,
    HINT = 'A delete with cascade (SET LOCAL mahalle.cascade = on) removes the links too and keeps them in the history.';
END $$;

-- Every layer gets the guard: the ones registered now, and any registered later (custom layers), whatever
-- makes them, as long as the table exists when it is registered.
CREATE FUNCTION mahalle.guard_layer_deletes(_layer text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  tbl regclass := to_regclass(format('public.%I', _layer));
BEGIN
  IF tbl IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = tbl AND tgname = 'z10_refuse_linked_delete') THEN
    EXECUTE format('CREATE TRIGGER z10_refuse_linked_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION mahalle.refuse_linked_delete()', tbl);
  END IF;
END $$;

CREATE FUNCTION mahalle.guard_registered_layer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mahalle.guard_layer_deletes(NEW.name);
  RETURN NULL;
END $$;

CREATE TRIGGER z10_guard_layer AFTER INSERT ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.guard_registered_layer();

SELECT mahalle.guard_layer_deletes(name) FROM mahalle.layer_registry ORDER BY name;

-- Deleting an intervention: installed assets keep it unless a cascade is asked for (as before). Task links to
-- it no longer vanish silently: mahalle.refuse_linked_delete refuses, or removes them with the cascade.
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
  RETURN OLD;
END $$;

-- Restore: a deleted feature whose uid another feature took meanwhile is refused ---------------------------

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
  taken bigint;
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
    EXECUTE format('SELECT id FROM %s WHERE uid = $1', tbl) INTO taken USING (state->>'uid')::uuid;
    IF taken IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '23M03', MESSAGE = format(
        '%s feature %s cannot be restored: its uid %s now belongs to %s feature %s, created after it was deleted. '
        'If that is the same feature, edit it instead; otherwise delete it first.',
        _layer, _id, state->>'uid', _layer, taken);
    END IF;
    PERFORM set_config('mahalle.restoring', 'on', true);
    EXECUTE format('INSERT INTO %s (id, uid, version, created_at, created_by, %s) '
                   'SELECT r.id, r.uid, $2, r.created_at, r.created_by, %s '
                   'FROM jsonb_populate_record(NULL::%s, $1) r RETURNING version', tbl, cols, vals, tbl)
      INTO new_version USING state, last_version + 1;
    PERFORM set_config('mahalle.restoring', 'off', true);
  END IF;
  RETURN new_version;
END $$;

-- Links from planning rows to features of any layer: the target must exist, and it is locked (FOR KEY SHARE)
-- until the link commits, so a concurrent delete of the feature waits and then meets the delete guard above,
-- instead of both committing and leaving a link to nothing.
CREATE OR REPLACE FUNCTION mahalle.check_feature_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  found_it boolean;  -- EXECUTE does not set FOUND
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry WHERE name = NEW.layer) THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('%s: there is no layer named %L', TG_TABLE_NAME, NEW.layer);
  END IF;
  EXECUTE format('SELECT true FROM public.%I WHERE id = $1 FOR KEY SHARE', NEW.layer) INTO found_it USING NEW.feature_id;
  IF found_it IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('%s: %s feature %s does not exist', TG_TABLE_NAME, NEW.layer, NEW.feature_id);
  END IF;
  RETURN NEW;
END $$;
