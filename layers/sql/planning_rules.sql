-- Planning rules that must hold whoever edits (API, web, importer, QGIS straight into PostGIS):
-- the intervention lifecycle, units and quantities of each kind, what completing an intervention does
-- to its targets, which targets an intervention may have, refusals of deletes that would orphan
-- records, and task progress derived from linked interventions.
--
-- SQLSTATEs: 23M01 = a transition the lifecycle does not allow (the API answers 409 with the allowed
-- next states); 23503 = a delete refused because other records depend on the row (409 in the API);
-- 23514 with COLUMN = a field that breaks a rule (422 naming the field).

-- The lifecycle: which status may follow which, and which moves need a reason (status_reason).
CREATE TABLE mahalle.intervention_transitions (
  from_status text NOT NULL,
  to_status text NOT NULL,
  needs_reason boolean NOT NULL DEFAULT false,
  PRIMARY KEY (from_status, to_status)
);
INSERT INTO mahalle.intervention_transitions (from_status, to_status, needs_reason) VALUES
  ('proposed', 'approved', false),
  ('approved', 'funded', false),
  ('funded', 'in_progress', false),
  ('in_progress', 'completed', false),
  ('proposed', 'cancelled', false),
  ('approved', 'cancelled', false),
  ('funded', 'cancelled', false),
  ('in_progress', 'cancelled', false),
  ('completed', 'in_progress', true),  -- reopened: the work turned out unfinished or faulty
  ('cancelled', 'proposed', true);     -- revived

-- A status' place in the catalogue's value list (the registry holds the catalogue): the order statuses
-- are listed in messages. NULL for a value that is not a status.
CREATE FUNCTION mahalle.intervention_status_rank(s text) RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT c.ord::integer
    FROM mahalle.layer_registry r,
         jsonb_array_elements(r.spec -> 'attributes') a,
         jsonb_array_elements(a -> 'choices') WITH ORDINALITY c(choice, ord)
   WHERE r.name = 'interventions' AND a ->> 'name' = 'status' AND c.choice ->> 'value' = s
$$;

CREATE FUNCTION mahalle.allowed_intervention_transitions(_from text) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(to_status ORDER BY mahalle.intervention_status_rank(to_status)), '{}')
    FROM mahalle.intervention_transitions WHERE from_status = _from
$$;

-- What each kind is measured in, how the planned quantity is read off the map, what it may act on,
-- and which assets it installs. Kinds missing here (drainage, other) have a free unit and no rules.
CREATE TABLE mahalle.intervention_kind_rules (
  kind text PRIMARY KEY,
  unit text NOT NULL CHECK (unit IN ('m2', 'm', 'count')),
  measure text CHECK (measure IN ('area', 'length', 'points')),
  target_layers text[],  -- NULL: any layer
  asset_kind text        -- assets of this kind linked via assets.intervention_id are what it installed
);
INSERT INTO mahalle.intervention_kind_rules (kind, unit, measure, target_layers, asset_kind) VALUES
  ('paving', 'm2', 'area', '{streets}', NULL),
  ('sidewalk', 'm2', 'area', '{streets}', NULL),
  ('park', 'm2', 'area', '{parcels,blighted_plots}', NULL),
  ('lot_clearing', 'm2', 'area', '{blighted_plots,parcels}', NULL),
  ('lighting', 'm', 'length', '{streets}', 'street_light'),
  ('tree_planting', 'count', 'points', '{streets,parcels,blighted_plots}', 'tree'),
  ('signage', 'count', 'points', '{streets}', 'street_name_sign'),
  ('speed_bump', 'count', 'points', '{streets}', 'speed_bump'),
  ('workshop_sealing', 'count', 'points', '{workshops}', NULL),
  ('drainage', 'm', 'length', '{streets,parcels}', NULL);

CREATE FUNCTION mahalle.cascade_requested() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('mahalle.cascade', true), '') IN ('on', 'true')
$$;

-- What a history row of a change made on an intervention's behalf says about its cause.
CREATE FUNCTION mahalle.intervention_cause(_id bigint, _status text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT format('intervention %s %s', _id, replace(_status, '_', ' '))
$$;

-- Lifecycle -----------------------------------------------------------------------------------------

-- BEFORE UPDATE, ahead of the value checks so the planner hears about the transition first.
CREATE FUNCTION mahalle.intervention_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who text := format('interventions feature %s', OLD.id);
  rule mahalle.intervention_transitions;
  allowed text[];
BEGIN
  IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NEW;
  END IF;
  IF mahalle.intervention_status_rank(NEW.status) IS NULL THEN
    RETURN NEW;  -- not a status at all: the validation trigger explains that
  END IF;
  SELECT * INTO rule FROM mahalle.intervention_transitions WHERE from_status = OLD.status AND to_status = NEW.status;
  IF NOT FOUND THEN
    allowed := mahalle.allowed_intervention_transitions(OLD.status);
    RAISE EXCEPTION USING ERRCODE = '23M01', COLUMN = 'status',
      MESSAGE = format('%s: an intervention cannot go from %s to %s; allowed next states: %s', who, OLD.status,
                       NEW.status, coalesce(nullif(array_to_string(allowed, ', '), ''), 'none')),
      HINT = array_to_string(allowed, ',');
  END IF;
  IF rule.needs_reason
     AND (coalesce(btrim(NEW.status_reason), '') = '' OR NEW.status_reason IS NOT DISTINCT FROM OLD.status_reason) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'status_reason',
      MESSAGE = format('%s: leaving %s needs a reason; say why in status_reason', who, OLD.status);
  END IF;
  IF NEW.status = 'completed' AND NEW.actual_end IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'actual_end',
      MESSAGE = format('%s: a completed intervention needs its actual end date (actual_end)', who);
  END IF;
  RETURN NEW;
END $$;

-- Units and quantities ------------------------------------------------------------------------------

-- The planned quantity as the map shows it, whole m² / m / count; NULL when the geometry cannot tell.
CREATE FUNCTION mahalle.measured_quantity(_measure text, g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN _measure = 'area' AND GeometryType(g) IN ('POLYGON', 'MULTIPOLYGON') THEN round(ST_Area(g::geography))
    WHEN _measure = 'length' AND GeometryType(g) IN ('LINESTRING', 'MULTILINESTRING')
      THEN round(ST_Length(g::geography))
    WHEN _measure = 'points' AND GeometryType(g) IN ('POINT', 'MULTIPOINT') THEN ST_NumGeometries(g)::double precision
  END
$$;

-- What was achieved when a completion does not say: the installed assets, the sealed workshops,
-- the points drawn (they become assets), or else the plan.
CREATE FUNCTION mahalle.default_achieved(i public.interventions, r mahalle.intervention_kind_rules)
RETURNS double precision LANGUAGE plpgsql STABLE AS $$
DECLARE
  n bigint;
BEGIN
  IF r.measure = 'points' AND r.asset_kind IS NOT NULL THEN
    SELECT count(*) INTO n FROM public.assets a WHERE a.intervention_id = i.id AND a.kind = r.asset_kind;
    IF n > 0 THEN RETURN n; END IF;
    IF GeometryType(i.geom) IN ('POINT', 'MULTIPOINT') THEN RETURN ST_NumGeometries(i.geom); END IF;
  ELSIF i.kind = 'workshop_sealing' THEN
    SELECT count(*) INTO n FROM public.intervention_targets t WHERE t.intervention_id = i.id AND t.layer = 'workshops';
    IF n > 0 THEN RETURN n; END IF;
  END IF;
  RETURN i.planned_quantity;
END $$;

-- BEFORE INSERT OR UPDATE, after the geometry has been checked: unit from the kind, planned quantity
-- from the geometry (a different figure needs a quantity_note), achieved quantity on completion.
CREATE FUNCTION mahalle.intervention_quantities() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who text := format('interventions feature %s', coalesce(NEW.id::text, 'new'));
  r mahalle.intervention_kind_rules;
  measured double precision;
  noted boolean := coalesce(btrim(NEW.quantity_note), '') <> '';
BEGIN
  SELECT * INTO r FROM mahalle.intervention_kind_rules WHERE kind = NEW.kind;
  IF FOUND THEN
    IF NEW.unit IS NULL OR (TG_OP = 'UPDATE' AND NEW.kind <> OLD.kind AND NEW.unit IS NOT DISTINCT FROM OLD.unit) THEN
      NEW.unit := r.unit;
    ELSIF NEW.unit <> r.unit THEN
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'unit',
        MESSAGE = format('%s: %s is measured in %s, not %s', who, NEW.kind, r.unit, NEW.unit);
    END IF;
    measured := mahalle.measured_quantity(r.measure, NEW.geom);
  END IF;
  IF measured IS NOT NULL THEN
    IF TG_OP = 'UPDATE' AND NOT noted AND NEW.planned_quantity IS NOT DISTINCT FROM OLD.planned_quantity
       AND NOT ST_Equals(NEW.geom, OLD.geom) THEN
      NEW.planned_quantity := measured;  -- redrawn: measure again
    ELSIF NEW.planned_quantity IS NULL THEN
      NEW.planned_quantity := measured;
    ELSIF abs(NEW.planned_quantity - measured) > 1 AND NOT noted THEN  -- 1 unit: rounding by the writer
      RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'planned_quantity',
        MESSAGE = format('%s: the planned quantity %s %s differs from the %s %s measured on the map; '
                         'give the reason in quantity_note', who, NEW.planned_quantity, NEW.unit, measured, NEW.unit);
    END IF;
  END IF;
  IF NEW.status = 'completed' AND NEW.achieved_quantity IS NULL
     AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'completed') THEN
    NEW.achieved_quantity := mahalle.default_achieved(NEW, r);
  END IF;
  RETURN NEW;
END $$;

-- Completion ----------------------------------------------------------------------------------------

-- AFTER UPDATE: completing an intervention changes its targets in the same transaction, and their
-- history names the intervention as the cause ("intervention 12 completed").
CREATE FUNCTION mahalle.intervention_completed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r mahalle.intervention_kind_rules;
  previous text := current_setting('mahalle.cause', true);
BEGIN
  IF NEW.status <> 'completed' OR OLD.status = 'completed' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('mahalle.cause', mahalle.intervention_cause(NEW.id, NEW.status), true);
  CASE NEW.kind
    WHEN 'paving' THEN
      UPDATE public.streets s SET surface = coalesce(NEW.paving_surface, 'paved')
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'streets' AND t.feature_id = s.id
         AND s.surface IS DISTINCT FROM coalesce(NEW.paving_surface, 'paved');
    WHEN 'lighting' THEN
      UPDATE public.streets s SET lighting = 'lit'
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'streets' AND t.feature_id = s.id AND s.lighting <> 'lit';
    WHEN 'lot_clearing' THEN
      UPDATE public.blighted_plots b SET status = 'cleared'
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'blighted_plots' AND t.feature_id = b.id
         AND b.status IN ('identified', 'secured');
    WHEN 'workshop_sealing' THEN
      UPDATE public.workshops w SET status = 'sealed'
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'workshops' AND t.feature_id = w.id
         AND w.status IN ('active', 'warned');
    WHEN 'park' THEN
      UPDATE public.parcels p SET land_use = 'park'
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'parcels' AND t.feature_id = p.id AND p.land_use <> 'park';
      UPDATE public.blighted_plots b SET status = 'repurposed'
        FROM public.intervention_targets t
       WHERE t.intervention_id = NEW.id AND t.layer = 'blighted_plots' AND t.feature_id = b.id
         AND b.status <> 'repurposed';
    ELSE
      NULL;
  END CASE;
  SELECT * INTO r FROM mahalle.intervention_kind_rules WHERE kind = NEW.kind;
  -- Points drawn for trees, signs or bumps become the installed assets unless they were mapped already.
  IF r.measure = 'points' AND r.asset_kind IS NOT NULL AND GeometryType(NEW.geom) IN ('POINT', 'MULTIPOINT')
     AND NOT EXISTS (SELECT 1 FROM public.assets a WHERE a.intervention_id = NEW.id) THEN
    INSERT INTO public.assets (kind, condition, installed_on, intervention_id, geom)
    SELECT r.asset_kind, 'good', NEW.actual_end, NEW.id, d.geom FROM ST_Dump(NEW.geom) d;
  END IF;
  UPDATE public.assets SET installed_on = NEW.actual_end WHERE intervention_id = NEW.id AND installed_on IS NULL;
  PERFORM set_config('mahalle.cause', coalesce(previous, ''), true);
  RETURN NULL;
END $$;

-- Targets -------------------------------------------------------------------------------------------

-- BEFORE INSERT OR UPDATE on intervention_targets: the layer and feature exist, the kind may act on
-- that layer, and the feature lies in the intervention's neighbourhood. Messages name the field.
CREATE FUNCTION mahalle.check_intervention_target() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  i record;
  allowed text[];
  found boolean;
  nid bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry WHERE name = NEW.layer) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = 'layer',
      MESSAGE = format('intervention_targets: there is no layer named %L', NEW.layer);
  END IF;
  SELECT id, kind, neighbourhood_id INTO i FROM public.interventions WHERE id = NEW.intervention_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = 'intervention_id',
      MESSAGE = format('intervention_targets: intervention %s does not exist', NEW.intervention_id);
  END IF;
  EXECUTE format('SELECT true, (to_jsonb(t) ->> %L)::bigint FROM public.%I t WHERE t.id = $1',
                 'neighbourhood_id', NEW.layer)
     INTO found, nid USING NEW.feature_id;
  IF found IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = 'feature_id',
      MESSAGE = format('intervention_targets: %s feature %s does not exist', NEW.layer, NEW.feature_id);
  END IF;
  SELECT target_layers INTO allowed FROM mahalle.intervention_kind_rules WHERE kind = i.kind;
  IF allowed IS NOT NULL AND NOT NEW.layer = ANY (allowed) THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'layer',
      MESSAGE = format('intervention_targets: a %s intervention acts on %s, not on %s', i.kind,
                       array_to_string(allowed, ' or '), NEW.layer);
  END IF;
  IF nid IS DISTINCT FROM i.neighbourhood_id THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'feature_id',
      MESSAGE = format('intervention_targets: %s feature %s lies in neighbourhood %s, not in %s where intervention %s is',
                       NEW.layer, NEW.feature_id,
                       coalesce((SELECT code FROM public.neighbourhoods WHERE id = nid), 'none'),
                       coalesce((SELECT code FROM public.neighbourhoods WHERE id = i.neighbourhood_id), 'none'), i.id);
  END IF;
  RETURN NEW;
END $$;

-- Deletes that would orphan records -----------------------------------------------------------------

-- BEFORE DELETE on interventions: installed assets keep it unless a cascade is asked for
-- (SET LOCAL mahalle.cascade = on); then they go too, and everything stays in the history.
CREATE FUNCTION mahalle.intervention_delete() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- BEFORE DELETE on tasks: subtasks keep a task unless a cascade is asked for; then the whole branch goes.
CREATE FUNCTION mahalle.task_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM public.tasks WHERE parent_id = OLD.id;
  IF n > 0 THEN
    IF NOT mahalle.cascade_requested() THEN
      RAISE EXCEPTION USING ERRCODE = '23503',
        MESSAGE = format('tasks feature %s has %s subtasks; delete them first, or delete with cascade '
                         '(which removes them too and keeps everything in the history)', OLD.id, n);
    END IF;
    IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
      PERFORM set_config('mahalle.cause', format('task %s deleted with cascade', OLD.id), true);
    END IF;
    DELETE FROM public.tasks WHERE parent_id = OLD.id;  -- recursion: each child runs this trigger
  END IF;
  RETURN OLD;
END $$;

-- Task progress -------------------------------------------------------------------------------------

-- How far one intervention is, 0-100; NULL when cancelled (it no longer counts).
CREATE FUNCTION mahalle.intervention_progress(_status text, _planned double precision, _achieved double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE _status
    WHEN 'completed' THEN 100
    WHEN 'cancelled' THEN NULL
    WHEN 'in_progress' THEN CASE WHEN _planned > 0 AND _achieved IS NOT NULL
                                 THEN least(100, 100 * _achieved / _planned) ELSE 50 END
    ELSE 0
  END::double precision
$$;

-- A task's progress from its linked interventions, weighted by the link's weight, else by planned cost
-- when every one has it, else by planned quantity when they share a unit, else equally.
-- NULL when the task has no (live) linked intervention: its progress is then set by hand.
CREATE FUNCTION mahalle.derived_task_progress(_task bigint) RETURNS double precision LANGUAGE sql STABLE AS $$
  WITH live AS (
    SELECT l.weight, i.planned_cost, i.planned_quantity, i.unit,
           mahalle.intervention_progress(i.status, i.planned_quantity, i.achieved_quantity) AS p
      FROM public.task_links l JOIN public.interventions i ON i.id = l.feature_id
     WHERE l.task_id = _task AND l.layer = 'interventions' AND i.status <> 'cancelled'
  ), basis AS (
    SELECT CASE WHEN bool_and(planned_cost > 0) THEN 'cost'
                WHEN bool_and(planned_quantity > 0) AND count(DISTINCT unit) = 1 THEN 'quantity'
                ELSE 'equal' END AS b
      FROM live
  )
  SELECT round((sum(p * w) / nullif(sum(w), 0))::numeric, 1)::double precision
    FROM (SELECT live.p, coalesce(live.weight, CASE basis.b WHEN 'cost' THEN live.planned_cost
                                                           WHEN 'quantity' THEN live.planned_quantity
                                                           ELSE 1 END) AS w
            FROM live, basis) x
$$;

-- BEFORE UPDATE on tasks: keep derived progress; refuse a hand-set figure on a task that has one.
CREATE FUNCTION mahalle.task_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  derived double precision := mahalle.derived_task_progress(NEW.id);
BEGIN
  IF derived IS NULL THEN
    RETURN NEW;
  END IF;
  IF NEW.progress IS DISTINCT FROM OLD.progress AND NEW.progress IS DISTINCT FROM derived THEN
    RAISE EXCEPTION USING ERRCODE = '23514', COLUMN = 'progress',
      MESSAGE = format('tasks feature %s: its progress (%s%%) comes from its linked interventions and cannot be '
                       'set by hand', NEW.id, derived);
  END IF;
  NEW.progress := derived;
  RETURN NEW;
END $$;

-- Recompute the progress of the given tasks; the tasks' history names why.
CREATE FUNCTION mahalle.refresh_task_progress(_tasks bigint[], _cause text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  previous text := current_setting('mahalle.cause', true);
BEGIN
  IF coalesce(previous, '') = '' THEN
    PERFORM set_config('mahalle.cause', _cause, true);
  END IF;
  UPDATE public.tasks t SET progress = d.p
    FROM (SELECT id, mahalle.derived_task_progress(id) AS p FROM unnest(_tasks) AS id) d
   WHERE t.id = d.id AND d.p IS NOT NULL AND coalesce(t.progress, 0) <> d.p;  -- none recorded = 0 %
  PERFORM set_config('mahalle.cause', coalesce(previous, ''), true);
END $$;

-- AFTER UPDATE on interventions: their tasks' progress follows.
CREATE FUNCTION mahalle.intervention_task_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.status, NEW.planned_quantity, NEW.achieved_quantity, NEW.planned_cost, NEW.unit)
     IS NOT DISTINCT FROM (OLD.status, OLD.planned_quantity, OLD.achieved_quantity, OLD.planned_cost, OLD.unit) THEN
    RETURN NULL;
  END IF;
  PERFORM mahalle.refresh_task_progress(
    ARRAY(SELECT task_id FROM public.task_links WHERE layer = 'interventions' AND feature_id = NEW.id),
    mahalle.intervention_cause(NEW.id, NEW.status));
  RETURN NULL;
END $$;

-- AFTER INSERT/UPDATE/DELETE on task_links: linking or unlinking an intervention changes the progress.
CREATE FUNCTION mahalle.task_link_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[] := '{}';
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.layer = 'interventions' THEN ids := ids || NEW.task_id; END IF;
  IF TG_OP <> 'INSERT' AND OLD.layer = 'interventions' THEN ids := ids || OLD.task_id; END IF;
  IF cardinality(ids) > 0 THEN
    PERFORM mahalle.refresh_task_progress(ids, 'task links changed');
  END IF;
  RETURN NULL;
END $$;

-- Triggers: BEFORE ones run in name order around the generated a10_validate / a20_neighbourhood /
-- a30_stamp; AFTER row triggers run before the history (z90_history, per statement since migration 0004),
-- so the row's own history is written last.
CREATE TRIGGER a05_lifecycle BEFORE UPDATE ON public.interventions
  FOR EACH ROW EXECUTE FUNCTION mahalle.intervention_lifecycle();
CREATE TRIGGER a25_quantities BEFORE INSERT OR UPDATE ON public.interventions
  FOR EACH ROW EXECUTE FUNCTION mahalle.intervention_quantities();
CREATE TRIGGER a05_dependents BEFORE DELETE ON public.interventions
  FOR EACH ROW EXECUTE FUNCTION mahalle.intervention_delete();
CREATE TRIGGER z50_completion AFTER UPDATE ON public.interventions
  FOR EACH ROW EXECUTE FUNCTION mahalle.intervention_completed();
CREATE TRIGGER z60_task_progress AFTER UPDATE ON public.interventions
  FOR EACH ROW EXECUTE FUNCTION mahalle.intervention_task_progress();
CREATE TRIGGER a05_target_rules BEFORE INSERT OR UPDATE ON public.intervention_targets
  FOR EACH ROW EXECUTE FUNCTION mahalle.check_intervention_target();
CREATE TRIGGER a05_dependents BEFORE DELETE ON public.tasks
  FOR EACH ROW EXECUTE FUNCTION mahalle.task_delete();
CREATE TRIGGER a25_progress BEFORE UPDATE ON public.tasks
  FOR EACH ROW EXECUTE FUNCTION mahalle.task_progress();
CREATE TRIGGER z60_task_progress AFTER INSERT OR UPDATE OR DELETE ON public.task_links
  FOR EACH ROW EXECUTE FUNCTION mahalle.task_link_progress();
