-- Undoes migration 0014: the plausibility checks leave every layer, then the rules and their functions go.
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'a15_plausibility' LOOP
    EXECUTE format('DROP TRIGGER a15_plausibility ON %s', t);
  END LOOP;
END $$;
DROP TRIGGER IF EXISTS z30_plausibility ON mahalle.layer_registry;
DROP TABLE IF EXISTS public.plausibility_rules;
DROP FUNCTION IF EXISTS mahalle.plausibility_registered_layer(), mahalle.add_plausibility_trigger(text),
  mahalle.check_plausibility(), mahalle.plausibility_problem(text, geometry, bigint),
  mahalle.plausibility_admin(), mahalle.check_plausibility_rule(),
  mahalle.plausibility_target(text);
