-- A checked load writes its new rows' stamps and neighbourhood itself (migration 0018, issue 19). The import's
-- upsert (importers/load.py) gives every new row the stamps mahalle.stamp_row would give it (version 1, created and
-- updated now() by mahalle.actor()) and the neighbourhood mahalle.derive_neighbourhood would find (one spatial join
-- by the same rule), so for those rows the stamp trigger (a30_stamp) and the neighbourhood trigger
-- (a20_neighbourhood) are skipped like the row checks of migration 0016.
--
-- Skipped only where the row shows that nothing is left to do — a fresh row (version 1, created and updated now():
-- what the trigger sets on INSERT; an update of an older row never looks like that, so updates are stamped by the
-- trigger as ever), and for the neighbourhood one already given — and only inside a checked load of that layer: a
-- login's own rows get their stamps and neighbourhood from the triggers, whatever values they carry.
--
-- The question "is this a checked load of the layer?" is asked once per row and trigger, so it is made cheap: no
-- longer a SQL function reading mahalle.checked_loads (about 4 µs a call, five calls a row now), but the setting, which
-- mahalle.begin_checked_load now sets to the layer and a fresh number of mahalle.checked_load_serial, compared with
-- currval() of that sequence. The signal still cannot be forged: only the application role (and the owner) may read
-- the sequence — a person's login that names a load in the setting gets its statement refused (no privilege on the
-- sequence) — and currval() answers only in a session that has drawn a number, which only begin_checked_load does.
-- The setting lives for the transaction (or until end_checked_load); mahalle.checked_loads keeps its other work:
-- the deferred indexes, and the check that a load is ended before its transaction commits.

CREATE SEQUENCE mahalle.checked_load_serial;

CREATE OR REPLACE FUNCTION mahalle.begin_checked_load(layer text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF mahalle.person_login() THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'only the application marks a load as checked';
  END IF;
  INSERT INTO mahalle.checked_loads (xact, layer) VALUES (pg_current_xact_id(), layer) ON CONFLICT DO NOTHING;
  PERFORM set_config('mahalle.checked_load', layer || ' ' || nextval('mahalle.checked_load_serial'), true);
END $$;

-- Whether a row trigger on `layer` runs: the WHEN of its CREATE TRIGGER (`fresh` and `given`: what else the row
-- must show to be skipped). The currval() is reached only when the setting names the layer (OR stops at the first
-- true), so other writers never touch the sequence.
CREATE FUNCTION mahalle.checked_load_when(layer text, fresh boolean, given boolean) RETURNS text LANGUAGE sql
IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT format('WHEN (NOT starts_with(coalesce(current_setting(''mahalle.checked_load'', true), ''''), %L) '
                'OR current_setting(''mahalle.checked_load'', true) <> %L || currval(''mahalle.checked_load_serial'')%s%s)',
                layer || ' ', layer || ' ',
                CASE WHEN fresh THEN ' OR NEW.version IS DISTINCT FROM 1 OR NEW.created_at IS DISTINCT FROM now()'
                                  ' OR NEW.updated_at IS DISTINCT FROM now()' ELSE '' END,
                CASE WHEN given THEN ' OR NEW.neighbourhood_id IS NULL' ELSE '' END)
$$;

-- As migration 0016's, with the stamp and neighbourhood triggers among those a checked load may skip.
CREATE OR REPLACE FUNCTION mahalle.checked_load_triggers(layer text, skip boolean) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  t record;
  custom boolean := EXISTS (SELECT 1 FROM mahalle.layer_registry r WHERE r.name = layer AND r.kind = 'custom');
BEGIN
  FOR t IN SELECT g.tgname::text AS name, g.tgfoid::regproc::text AS fn FROM pg_trigger g
            WHERE g.tgrelid = to_regclass(format('public.%I', layer)) AND NOT g.tgisinternal
              AND g.tgname IN ('a10_validate', 'a15_plausibility', 'a20_neighbourhood', 'a25_permit', 'a30_stamp')
              AND NOT (custom AND g.tgname = 'a10_validate')
              -- an intervention must lie wholly within a neighbourhood its planner may plan in: that rule is
              -- mahalle.permit_row's alone, the statement-level check does not know it
              AND NOT (layer = 'interventions' AND g.tgname = 'a25_permit') LOOP
    EXECUTE format('DROP TRIGGER %I ON public.%I', t.name, layer);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON public.%I FOR EACH ROW %s EXECUTE FUNCTION %s()',
                   t.name, layer,
                   CASE WHEN skip THEN mahalle.checked_load_when(layer, t.name IN ('a20_neighbourhood', 'a30_stamp'),
                                                                 t.name = 'a20_neighbourhood')
                        ELSE '' END,
                   t.fn);
  END LOOP;
END $$;
REVOKE ALL ON FUNCTION mahalle.checked_load_triggers(text, boolean) FROM PUBLIC;  -- (and layers/roles.py)

SELECT mahalle.checked_load_triggers(name, true) FROM mahalle.layer_registry ORDER BY name;

SELECT mahalle.secure_trigger_functions();
