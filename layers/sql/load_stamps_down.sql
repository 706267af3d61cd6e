-- Undoes migration 0018: the stamp and neighbourhood triggers run for every row again, the row checks skip a checked
-- load by migration 0016's WHEN (mahalle.checked_load reading mahalle.checked_loads), begin_checked_load sets the
-- setting to the layer alone, and the sequence goes.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT g.tgname::text AS name, g.tgfoid::regproc::text AS fn, r.name AS layer
             FROM mahalle.layer_registry r JOIN pg_trigger g ON g.tgrelid = to_regclass(format('public.%I', r.name))
            WHERE NOT g.tgisinternal AND g.tgname IN ('a20_neighbourhood', 'a30_stamp') ORDER BY r.name, g.tgname LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', t.name, t.layer);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON public.%I FOR EACH ROW EXECUTE FUNCTION %s()',
                   t.name, t.layer, t.fn);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION mahalle.begin_checked_load(layer text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF mahalle.person_login() THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'only the application marks a load as checked';
  END IF;
  INSERT INTO mahalle.checked_loads (xact, layer) VALUES (pg_current_xact_id(), layer) ON CONFLICT DO NOTHING;
  PERFORM set_config('mahalle.checked_load', layer, true);
END $$;

CREATE OR REPLACE FUNCTION mahalle.checked_load_triggers(layer text, skip boolean) RETURNS void LANGUAGE plpgsql
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

SELECT mahalle.checked_load_triggers(name, true) FROM mahalle.layer_registry ORDER BY name;

DROP FUNCTION IF EXISTS mahalle.checked_load_when(text, boolean, boolean);
DROP SEQUENCE IF EXISTS mahalle.checked_load_serial;

SELECT mahalle.secure_trigger_functions();
