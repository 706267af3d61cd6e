-- Checked bulk loads (migration 0016). An import checks its staged rows set-based — the layer's validation
-- (importers/staged.py, generated from the catalogue) and its plausibility rules (mahalle.plausibility_verdict) in
-- one statement each — and then moves them into the layer in one statement. The row triggers that would check every
-- row again (a10_validate, a15_plausibility, a25_permit) skip the rows of that statement; everything else runs as
-- for any edit: the CHECK constraints, the neighbourhood, the stamps, the rights over the whole statement
-- (z05_permit_*), history, the tile cache.
--
-- The signal cannot be forged from a database login: it is a row of mahalle.checked_loads keyed by the writing
-- transaction, which only mahalle.begin_checked_load writes (EXECUTE for the application role alone; it refuses a
-- person's login too). The setting mahalle.checked_load only spares every other edit the look into that table.

CREATE TABLE mahalle.checked_loads (
  xact xid8 NOT NULL,
  layer text NOT NULL,
  indexes text[] NOT NULL DEFAULT '{}',  -- definitions of the indexes mahalle.defer_indexes dropped, to build again
  PRIMARY KEY (xact, layer)
);

-- The application, after checking every staged row of `layer` and right before the statement that writes them.
CREATE FUNCTION mahalle.begin_checked_load(layer text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF mahalle.person_login() THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'only the application marks a load as checked';
  END IF;
  INSERT INTO mahalle.checked_loads (xact, layer) VALUES (pg_current_xact_id(), layer) ON CONFLICT DO NOTHING;
  PERFORM set_config('mahalle.checked_load', layer, true);
END $$;

-- Right after that statement: the indexes deferred are built, and every later row of the transaction is checked by
-- the triggers again.
CREATE FUNCTION mahalle.end_checked_load() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  definition text;
BEGIN
  FOR definition IN SELECT unnest(c.indexes) FROM mahalle.checked_loads c WHERE c.xact = pg_current_xact_id() LOOP
    EXECUTE definition;
  END LOOP;
  DELETE FROM mahalle.checked_loads WHERE xact = pg_current_xact_id();
  PERFORM set_config('mahalle.checked_load', '', true);
END $$;

-- A checked load into a layer that has no rows: its plain indexes (the spatial one among them; not those of a key)
-- are dropped before the rows and built again by mahalle.end_checked_load, each in one sorted pass instead of one
-- insertion per row. Only for the layer of this transaction's checked load, only while it has no rows, and only if
-- the layer can be locked at once (another transaction reading or writing it keeps its indexes as they are, so two
-- first imports never wait for each other); the lock lasts until the load's transaction ends — readers of the new
-- layer wait for its first rows — and a load that fails rolls the drop back with everything else.
CREATE FUNCTION mahalle.defer_indexes(layer text) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t regclass := to_regclass(format('public.%I', layer));
  empty boolean;
  i record;
  n integer := 0;
BEGIN
  IF t IS NULL OR NOT EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = layer)
     OR NOT mahalle.checked_load(layer) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'indexes are deferred only for a checked load of a layer';
  END IF;
  EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', t) INTO empty;
  IF NOT empty THEN
    RETURN 0;
  END IF;
  BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', t);
  EXCEPTION WHEN lock_not_available THEN
    RETURN 0;
  END;
  EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', t) INTO empty;  -- again, now that nobody else writes
  IF NOT empty THEN
    RETURN 0;
  END IF;
  FOR i IN SELECT x.indexrelid::regclass AS idx, pg_get_indexdef(x.indexrelid) AS definition FROM pg_index x
            WHERE x.indrelid = t AND NOT x.indisunique AND NOT x.indisprimary AND x.indisvalid
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) LOOP
    UPDATE mahalle.checked_loads c SET indexes = c.indexes || i.definition
     WHERE c.xact = pg_current_xact_id() AND c.layer = defer_indexes.layer;
    EXECUTE format('DROP INDEX %s', i.idx);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- A checked load must be ended in its transaction (its indexes built, its rows checked again): a transaction that
-- would commit with one still open fails instead.
CREATE FUNCTION mahalle.checked_load_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM mahalle.checked_loads c WHERE c.xact = NEW.xact AND c.layer = NEW.layer) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('the checked load of %s was not ended (mahalle.end_checked_load): nothing is written', NEW.layer);
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER z10_ended AFTER INSERT ON mahalle.checked_loads DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION mahalle.checked_load_ended();

-- Whether the row being written belongs to a checked load of `layer` (the triggers' WHEN asks only when the
-- setting names the layer). It runs as the writer, not the owner (a cheaper call, once per row and trigger): the
-- application may read the table; a login that set the setting itself is refused the read, so its statement fails.
CREATE FUNCTION mahalle.checked_load(layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM mahalle.checked_loads c
                  WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned() AND c.layer = checked_load.layer)
$$;

REVOKE ALL ON FUNCTION mahalle.begin_checked_load(text), mahalle.end_checked_load(), mahalle.defer_indexes(text)
  FROM PUBLIC;

-- The row checks of a layer's table, with (`skip`) or without the WHEN that lets a checked load pass. The triggers
-- are made again under their names, so they keep their order. A custom layer keeps its validation for every row
-- (its definition is read from the registry as each row is written), the interventions their permit check.
CREATE FUNCTION mahalle.checked_load_triggers(layer text, skip boolean) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  t record;
  custom boolean := EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = layer AND r.kind = 'custom');
BEGIN
  FOR t IN SELECT g.tgname::text AS name, g.tgfoid::regproc::text AS fn FROM pg_trigger g
            WHERE g.tgrelid = to_regclass(format('public.%I', layer)) AND NOT g.tgisinternal
              AND g.tgname IN ('a10_validate', 'a15_plausibility', 'a25_permit')
              AND NOT (custom AND g.tgname = 'a10_validate')
              -- an intervention must lie wholly within a neighbourhood its planner may plan in: that rule is
              -- mahalle.permit_row's alone, the statement-level check does not know it
              AND NOT (layer = 'interventions' AND g.tgname = 'a25_permit') LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', t.name, layer);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON public.%I FOR EACH ROW %s EXECUTE FUNCTION %s()',
                   t.name, layer,
                   CASE WHEN skip THEN format('WHEN (current_setting(''mahalle.checked_load'', true) IS DISTINCT FROM '
                                              '%L OR NOT mahalle.checked_load(%L))', layer, layer) ELSE '' END,
                   t.fn);
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION mahalle.checked_load_triggers(text, boolean) FROM PUBLIC;  -- (and layers/roles.py)

-- A layer registered later (a custom layer) gets the WHEN once its other registry triggers have made its checks.
CREATE FUNCTION mahalle.checked_load_registered_layer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass(format('public.%I', NEW.name)) IS NOT NULL THEN
    PERFORM mahalle.checked_load_triggers(NEW.name, true);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER z40_checked_loads AFTER INSERT ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.checked_load_registered_layer();

SELECT mahalle.checked_load_triggers(name, true) FROM mahalle.layer_registry ORDER BY name;

-- The words of a broken rule (migration 0012's rule codes), for the trigger and the imports alike.
CREATE FUNCTION mahalle.plausibility_refusal(layer text, rule text, value double precision,
                                             measured double precision, was bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE rule
    WHEN 'max_length' THEN jsonb_build_object('rule', 'line_too_long', 'params', jsonb_build_object(
        'layer', layer, 'length_m', round(measured::numeric), 'max_m', value),
      'message', format('the line is %s m long; this layer''s plausibility rule allows at most %s m '
                        '(an administrator sets it)', round(measured::numeric), value))
    WHEN 'max_area' THEN jsonb_build_object('rule', 'area_too_large', 'params', jsonb_build_object(
        'layer', layer, 'area_m2', round(measured::numeric), 'max_m2', value),
      'message', format('the area is %s m²; this layer''s plausibility rule allows at most %s m² '
                        '(an administrator sets it)', round(measured::numeric), value))
    WHEN 'near_neighbourhoods' THEN jsonb_build_object('rule', 'outside_extent', 'params', jsonb_build_object(
        'layer', layer, 'distance_m', round(measured::numeric), 'max_m', value),
      'message', format('the feature lies %s m from the nearest neighbourhood; this layer''s plausibility rule '
                        'allows at most %s m (is it in the right place, or the right coordinate system?)',
                        round(measured::numeric), value))
    WHEN 'keep_neighbourhood' THEN jsonb_build_object('rule', 'left_neighbourhood', 'params', jsonb_build_object(
        'layer', layer, 'neighbourhood', (SELECT x.name FROM public.neighbourhoods x WHERE x.id = was),
        'code', (SELECT x.code FROM public.neighbourhoods x WHERE x.id = was)),
      'message', format('the feature would lie outside every neighbourhood (it was in %s); move it into a '
                        'neighbourhood, or set its neighbourhood to none in the same edit if it really lies '
                        'outside', mahalle.place_name(was)))
  END
$$;

-- Whether a geometry meets no neighbourhood and, for near_neighbourhoods, lies farther than `value` from all: the
-- neighbourhood rules' searches, for a geometry not known to be inside one.
CREATE FUNCTION mahalle.plausibility_apart(layer text, rule text, value double precision, g geometry, was bigint)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE
    -- Inside or touching a neighbourhood (the GiST index answers) is near enough; the distance only otherwise.
    WHEN EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_Intersects(n.geom, g)) THEN NULL
    WHEN rule = 'keep_neighbourhood' THEN mahalle.plausibility_refusal(layer, rule, value, NULL, was)
    WHEN EXISTS (SELECT 1 FROM public.neighbourhoods)
         AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_DWithin(n.geom::geography, g::geography, value))
      THEN mahalle.plausibility_refusal(layer, rule, value,
             (SELECT min(ST_Distance(n.geom::geography, g::geography)) FROM public.neighbourhoods n), was)
  END
$$;

-- One plausibility rule applied to one geometry: NULL when it passes, else {rule, params, message}. Plain SQL without
-- sub-selects, which PostgreSQL inlines, so an import applies every rule to every staged row in one statement;
-- `inside` (whether the geometry meets a neighbourhood), when the caller knows it, spares the neighbourhood rules'
-- search. Names are qualified: an inlined function runs under its caller's search_path.
CREATE FUNCTION mahalle.plausibility_verdict(layer text, rule text, value double precision, g public.geometry,
                                             was bigint DEFAULT NULL, inside boolean DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN g IS NULL THEN NULL
    WHEN rule = 'max_length' THEN
      CASE WHEN public.ST_Dimension(g) = 1 AND public.ST_Length(g::public.geography) > value
           THEN mahalle.plausibility_refusal(layer, rule, value, public.ST_Length(g::public.geography), was) END
    WHEN rule = 'max_area' THEN
      CASE WHEN public.ST_Dimension(g) = 2 AND public.ST_Area(g::public.geography) > value
           THEN mahalle.plausibility_refusal(layer, rule, value, public.ST_Area(g::public.geography), was) END
    WHEN rule = 'near_neighbourhoods' OR (rule = 'keep_neighbourhood' AND was IS NOT NULL) THEN
      CASE WHEN inside IS NOT TRUE THEN mahalle.plausibility_apart(layer, rule, value, g, was) END
  END
$$;

-- The first rule a geometry breaks on a layer, in the rules' order (migration 0014's contract, now one statement
-- over the verdicts above).
CREATE OR REPLACE FUNCTION mahalle.plausibility_problem(layer text, g geometry, was bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT v.problem
    FROM public.plausibility_rules p,
         LATERAL (SELECT mahalle.plausibility_verdict(plausibility_problem.layer, p.rule, p.value, g, was)) v(problem)
   WHERE p.layer = plausibility_problem.layer AND p.enabled AND v.problem IS NOT NULL
   ORDER BY p.rule
   LIMIT 1
$$;

SELECT mahalle.secure_trigger_functions();
