-- Outreach visits, referrals and needs (migration 0011): the rules the catalogue cannot express. Their tables,
-- validation (value lists, ranges, breakdowns), history and protection come from the catalogue (layers/visits.py,
-- layers/referrals.py, layers/needs.py).
--
-- A visit and a referral of a task roll up into that task's outputs: the database keeps one output per kind it
-- counts (a visit: one outreach visit, the people reached with the breakdown by sex, the sessions given; a
-- referral: the people referred), linked by visit_id / referral_id, so targets, progress, reports, exports and
-- QGIS count them like every other outcome. Those outputs change only with their visit or referral.
--
-- SQLSTATEs: 23503 with COLUMN for a task or service point that does not exist; 42501 for one the writer may not
-- see or record against; 23514 for a derived output changed by hand or a need placed nowhere; 23M02 for a task
-- deleted while visits or referrals count what it achieved (409, unless cascade).

-- Where a visit or a referral lies, and what it may name ------------------------------------------------------

-- A referenced feature that exists and that the writer may see, else a clear refusal naming it. One that exists
-- where the writer may not read is answered exactly like one that does not exist: no one learns of other
-- neighbourhoods' ids by trying them.
CREATE FUNCTION mahalle.referenced_neighbourhood(who text, _layer text, _column text, fid bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  n bigint;
  found_it boolean;
  hidden boolean := mahalle.grants() IS NOT NULL AND mahalle.scope('read', _layer) IS NOT NULL
                    AND mahalle.feature_neighbourhood(_layer, fid) IS NULL;
BEGIN
  IF NOT hidden THEN
    EXECUTE format('SELECT true, neighbourhood_id FROM public.%I WHERE id = $1', _layer) INTO found_it, n USING fid;
  END IF;
  IF found_it IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = _column,
      MESSAGE = format('%s: %s %s does not exist%s', who, replace(_layer, '_', ' '), fid,
                       CASE WHEN mahalle.grants() IS NOT NULL AND mahalle.scope('read', _layer) IS NOT NULL
                            THEN ' or is not one you may see' ELSE '' END);
  END IF;
  RETURN n;
END $$;

-- BEFORE INSERT OR UPDATE on visits and referrals, after the neighbourhood is derived from the place (a20) and
-- before the permit (a25): the task and the service points named exist and are visible; a visit without a place
-- lies at its service point, else in its task's neighbourhood; a referral lies where the referring service is,
-- else where it referred to, else in its task's neighbourhood. The writer must be allowed to record the task's
-- outcomes (like an output of it).
CREATE FUNCTION mahalle.counted_place() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r jsonb := to_jsonb(NEW);
  who text := format('%s %s', TG_TABLE_NAME, CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END);
  task_n bigint;
  place bigint;
  ref text;
  action text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE 'edit' END;
BEGIN
  IF (r ->> 'task_id') IS NOT NULL THEN
    task_n := mahalle.referenced_neighbourhood(who, 'tasks', 'task_id', (r ->> 'task_id')::bigint);
  END IF;
  FOREACH ref IN ARRAY ARRAY['service_point_id', 'from_service_id', 'to_service_id'] LOOP
    IF (r ->> ref) IS NOT NULL THEN
      place := coalesce(place, mahalle.referenced_neighbourhood(who, 'service_points', ref, (r ->> ref)::bigint));
    END IF;
  END LOOP;
  IF coalesce(r ->> 'geom', '') = '' OR NEW.neighbourhood_id IS NULL THEN  -- no place of its own, or outside
    NEW.neighbourhood_id := coalesce(place, task_n, NEW.neighbourhood_id);
  END IF;
  IF task_n IS NOT NULL AND mahalle.grants() IS NOT NULL AND pg_trigger_depth() = 1
     AND (TG_OP = 'INSERT' OR (r ->> 'task_id') IS DISTINCT FROM (to_jsonb(OLD) ->> 'task_id'))
     AND NOT mahalle.in_scope(task_n, mahalle.scope(action, 'outputs')) THEN
    PERFORM mahalle.refuse(format('you may not record outcomes of task %s: it lies in %s', r ->> 'task_id',
                                  mahalle.place_name(task_n)));
  END IF;
  RETURN NEW;
END $$;

-- An output names its task (and service point) the same way: one that exists where the writer may not read is
-- answered like one that does not exist (replaces the version of migration 0009, which told them apart).
CREATE OR REPLACE FUNCTION mahalle.output_task() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who text := format('outputs %s', CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END);
  check_rights boolean := (TG_OP = 'INSERT' OR NEW.task_id IS DISTINCT FROM OLD.task_id)
                          AND mahalle.grants() IS NOT NULL AND pg_trigger_depth() = 1;
  task_n bigint;
  action text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE 'edit' END;
BEGIN
  IF check_rights THEN
    task_n := mahalle.referenced_neighbourhood(who, 'tasks', 'task_id', NEW.task_id);
  ELSE  -- a derived output (pg_trigger_depth() > 1), or one whose task stays: no question of rights
    SELECT t.neighbourhood_id INTO task_n FROM public.tasks t WHERE t.id = NEW.task_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = 'task_id',
        MESSAGE = format('%s: task %s does not exist', who, NEW.task_id);
    END IF;
  END IF;
  IF NEW.geom IS NULL OR NEW.neighbourhood_id IS NULL THEN
    NEW.neighbourhood_id := task_n;
  END IF;
  IF check_rights AND NOT mahalle.in_scope(task_n, mahalle.scope(action, 'outputs')) THEN
    PERFORM mahalle.refuse(format('you may not record outputs of task %s: it lies in %s', NEW.task_id,
                                  mahalle.place_name(task_n)));
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER a21_place BEFORE INSERT OR UPDATE ON public.visits
  FOR EACH ROW EXECUTE FUNCTION mahalle.counted_place();
CREATE TRIGGER a21_place BEFORE INSERT OR UPDATE ON public.referrals
  FOR EACH ROW EXECUTE FUNCTION mahalle.counted_place();

-- A need lies in the area drawn for it, or in the neighbourhood named: one of the two.
CREATE FUNCTION mahalle.need_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.geom IS NULL AND NEW.neighbourhood_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'geom',
      MESSAGE = format('needs %s: say where the need is: draw its area, or give the neighbourhood (neighbourhood_id)',
                       CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER a21_place BEFORE INSERT OR UPDATE ON public.needs
  FOR EACH ROW EXECUTE FUNCTION mahalle.need_place();

-- The outputs a visit or a referral counts ------------------------------------------------------------------

-- The outputs a row of visits/referrals stands for: (kind, quantity, unit, female, male); a referral for
-- employment is a job referral; none for a referral without a task (it is counted, but towards no task).
CREATE FUNCTION mahalle.counted_outputs(_layer text, r jsonb)
RETURNS TABLE (kind text, quantity double precision, unit text, female integer, male integer)
LANGUAGE sql IMMUTABLE AS $$
  SELECT v.kind, v.quantity, v.unit, v.female, v.male
    FROM (VALUES ('visits', 'outreach_visits', 1::double precision, 'visits', NULL::integer, NULL::integer),
                 ('visits', 'people_reached', (r ->> 'people_served')::double precision, 'people',
                  (r ->> 'female')::integer, (r ->> 'male')::integer),
                 ('visits', 'sessions_given', (r ->> 'sessions')::double precision, 'sessions', NULL, NULL),
                 ('referrals', CASE r ->> 'need' WHEN 'employment' THEN 'job_referrals' ELSE 'referrals_made' END,
                  (r ->> 'people')::double precision, 'people', NULL, NULL))
         AS v(layer, kind, quantity, unit, female, male)
   WHERE v.layer = _layer AND v.quantity > 0 AND (r ->> 'task_id') IS NOT NULL
$$;

-- AFTER INSERT OR UPDATE on visits and referrals: their outputs follow (updated in place, so each output keeps
-- its id and history; added or removed as counts appear or drop to zero).
CREATE FUNCTION mahalle.sync_counted_outputs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r jsonb := to_jsonb(NEW);
  link text := CASE TG_TABLE_NAME WHEN 'visits' THEN 'visit_id' ELSE 'referral_id' END;
  want record;
  kinds text[] := '{}';
  geom geometry;
BEGIN
  IF TG_TABLE_NAME = 'visits' THEN  -- (a referral has no place of its own) at its place, else its service point's
    geom := coalesce(NEW.geom, (SELECT p.geom FROM public.service_points p WHERE p.id = NEW.service_point_id));
  END IF;
  IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
    PERFORM set_config('mahalle.cause', format('%s %s recorded', TG_TABLE_NAME, NEW.id), true);
  END IF;
  FOR want IN SELECT * FROM mahalle.counted_outputs(TG_TABLE_NAME, r) LOOP
    kinds := kinds || want.kind;
    EXECUTE format(
      'UPDATE public.outputs o SET quantity = $1, unit = $2, female = $3, male = $4, date = $5, task_id = $6, '
      '       service_point_id = $7, geom = $8, neighbourhood_id = $9 '
      ' WHERE o.%I = $10 AND o.kind = $11 AND (o.quantity, o.unit, o.female, o.male, o.date, o.task_id, '
      '       o.service_point_id, o.neighbourhood_id) IS DISTINCT FROM ($1, $2, $3, $4, $5, $6, $7, $9) '
      '    OR o.%I = $10 AND o.kind = $11 AND NOT (o.geom IS NOT DISTINCT FROM $8)', link, link)
      USING want.quantity, want.unit, want.female, want.male, (r ->> 'date')::date, (r ->> 'task_id')::bigint,
            (r ->> 'service_point_id')::bigint, geom, NEW.neighbourhood_id, NEW.id, want.kind;
    EXECUTE format(
      'INSERT INTO public.outputs (kind, quantity, unit, female, male, date, task_id, service_point_id, geom, '
      '                            neighbourhood_id, %I) '
      'SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 '
      ' WHERE NOT EXISTS (SELECT 1 FROM public.outputs o WHERE o.%I = $11 AND o.kind = $1)', link, link)
      USING want.kind, want.quantity, want.unit, want.female, want.male, (r ->> 'date')::date,
            (r ->> 'task_id')::bigint, (r ->> 'service_point_id')::bigint, geom, NEW.neighbourhood_id, NEW.id;
  END LOOP;
  EXECUTE format('DELETE FROM public.outputs o WHERE o.%I = $1 AND NOT o.kind = ANY ($2)', link) USING NEW.id, kinds;
  RETURN NULL;
END $$;

CREATE TRIGGER z20_outputs AFTER INSERT OR UPDATE ON public.visits
  FOR EACH ROW EXECUTE FUNCTION mahalle.sync_counted_outputs();
CREATE TRIGGER z20_outputs AFTER INSERT OR UPDATE ON public.referrals
  FOR EACH ROW EXECUTE FUNCTION mahalle.sync_counted_outputs();

-- BEFORE DELETE on visits and referrals: their outputs go first (the foreign key would refuse otherwise).
CREATE FUNCTION mahalle.drop_counted_outputs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  EXECUTE format('DELETE FROM public.outputs o WHERE o.%I = $1',
                 CASE TG_TABLE_NAME WHEN 'visits' THEN 'visit_id' ELSE 'referral_id' END) USING OLD.id;
  RETURN OLD;
END $$;

CREATE TRIGGER a06_outputs BEFORE DELETE ON public.visits
  FOR EACH ROW EXECUTE FUNCTION mahalle.drop_counted_outputs();
CREATE TRIGGER a06_outputs BEFORE DELETE ON public.referrals
  FOR EACH ROW EXECUTE FUNCTION mahalle.drop_counted_outputs();

-- BEFORE INSERT, UPDATE or DELETE on outputs: one counted from a visit or a referral changes only with it.
CREATE FUNCTION mahalle.guard_counted_output() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
  o jsonb := CASE WHEN TG_OP = 'INSERT' THEN '{}' ELSE to_jsonb(OLD) END;
  source text := coalesce('visit ' || coalesce(r ->> 'visit_id', o ->> 'visit_id'),
                          'referral ' || coalesce(r ->> 'referral_id', o ->> 'referral_id'));
BEGIN
  IF source IS NOT NULL AND pg_trigger_depth() = 1 THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = CASE WHEN source LIKE 'visit%' THEN 'visit_id' ELSE 'referral_id' END,
      MESSAGE = format('outputs %s: this output counts %s; change or delete the %s instead',
                       CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || OLD.id END, source,
                       split_part(source, ' ', 1));
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER a04_counted BEFORE INSERT OR UPDATE OR DELETE ON public.outputs
  FOR EACH ROW EXECUTE FUNCTION mahalle.guard_counted_output();

-- Deleting a task: its visits and referrals count what it achieved, like its outputs --------------------------

CREATE OR REPLACE FUNCTION mahalle.task_outputs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n_outputs bigint := (SELECT count(*) FROM public.outputs
                         WHERE task_id = OLD.id AND visit_id IS NULL AND referral_id IS NULL);
  n_visits bigint := (SELECT count(*) FROM public.visits WHERE task_id = OLD.id);
  n_referrals bigint := (SELECT count(*) FROM public.referrals WHERE task_id = OLD.id);
BEGIN
  IF n_outputs + n_visits + n_referrals = 0 THEN
    RETURN OLD;
  END IF;
  IF NOT mahalle.cascade_requested() THEN
    RAISE EXCEPTION USING ERRCODE = '23M02',
      MESSAGE = format('tasks feature %s cannot be deleted: %s are recorded against it; delete them first, '
                       'or delete with cascade (which removes them too and keeps everything in the history)',
                       OLD.id, array_to_string(ARRAY[
                         CASE WHEN n_outputs > 0 THEN n_outputs || ' outputs' END,
                         CASE WHEN n_visits > 0 THEN n_visits || ' visits' END,
                         CASE WHEN n_referrals > 0 THEN n_referrals || ' referrals' END], ', '));
  END IF;
  IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
    PERFORM set_config('mahalle.cause', format('task %s deleted with cascade', OLD.id), true);
  END IF;
  DELETE FROM public.visits WHERE task_id = OLD.id;
  DELETE FROM public.referrals WHERE task_id = OLD.id;
  DELETE FROM public.outputs WHERE task_id = OLD.id;
  RETURN OLD;
END $$;

-- A task's column and its progress never contradict each other ------------------------------------------------

-- BEFORE INSERT OR UPDATE on tasks, after the derived progress is set (a25_progress): a task with progress is no
-- longer "to do" (it moves to "in progress"); a task made done whose progress is set by hand is 100 % done, and a
-- hand-set progress reaching 100 % makes it done. A progress that comes from targets or interventions stays what
-- they say, in every column: on a done card it reads as what the task achieved.
CREATE FUNCTION mahalle.task_status_follows_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  by_hand boolean := NEW.id IS NULL OR mahalle.task_progress_source(NEW.id) = 'manual';
  progress_moved boolean := TG_OP = 'INSERT' OR NEW.progress IS DISTINCT FROM OLD.progress;
  status_moved boolean := TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status;
BEGIN
  IF NEW.status = 'done' AND by_hand AND status_moved THEN
    NEW.progress := 100;
  ELSIF NEW.status = 'todo' AND coalesce(NEW.progress, 0) > 0 THEN
    NEW.status := 'in_progress';
  END IF;
  IF NEW.status = 'in_progress' AND by_hand AND progress_moved AND NEW.progress >= 100 THEN
    NEW.status := 'done';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER a26_status BEFORE INSERT OR UPDATE ON public.tasks
  FOR EACH ROW EXECUTE FUNCTION mahalle.task_status_follows_progress();

-- Field workers record visits, referrals and needs too (a mobile unit's counts), where they work.
CREATE OR REPLACE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'planner' THEN action = 'read' OR layer <> 'neighbourhoods'  -- boundaries decide rights: admins only
    WHEN 'field' THEN action IN ('read', 'attach')
                      OR (action = 'create' AND layer IN ('observations', 'outputs', 'visits', 'referrals', 'needs'))
                      OR (action = 'field' AND EXISTS (
                            SELECT 1 FROM mahalle.layer_registry r
                             WHERE r.name = layer
                               AND pg_catalog.jsonb_array_length(coalesce(r.spec->'field_editable', '[]')) > 0))
    WHEN 'viewer' THEN action = 'read'
    ELSE false END
$$;

SELECT mahalle.secure_trigger_functions();
