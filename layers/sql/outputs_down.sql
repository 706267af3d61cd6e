-- Undoes outputs.sql (the outputs table itself is dropped by the migration).
CREATE OR REPLACE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'planner' THEN action = 'read' OR layer <> 'neighbourhoods'  -- boundaries decide rights: admins only
    WHEN 'field' THEN action IN ('read', 'attach')
                      OR (action = 'create' AND layer = 'observations')
                      OR (action = 'field' AND EXISTS (
                            SELECT 1 FROM mahalle.layer_registry r
                             WHERE r.name = layer
                               AND pg_catalog.jsonb_array_length(coalesce(r.spec->'field_editable', '[]')) > 0))
    WHEN 'viewer' THEN action = 'read'
    ELSE false END
$$;
DROP TRIGGER IF EXISTS a06_outputs ON public.tasks;
DROP FUNCTION IF EXISTS mahalle.task_outputs_delete();
DROP TABLE IF EXISTS public.task_targets;
DROP FUNCTION IF EXISTS mahalle.output_task_progress();
DROP FUNCTION IF EXISTS mahalle.task_progress_source(bigint);
DROP FUNCTION IF EXISTS mahalle.derived_task_progress(bigint);
ALTER FUNCTION mahalle.intervention_task_progress_of(bigint) RENAME TO derived_task_progress;
DROP FUNCTION IF EXISTS mahalle.target_task_progress(bigint);
DROP FUNCTION IF EXISTS mahalle.task_target_status(bigint);
DROP FUNCTION IF EXISTS mahalle.check_task_target();
DROP FUNCTION IF EXISTS mahalle.output_kinds();
DROP FUNCTION IF EXISTS mahalle.output_task();
-- The refusal of a hand-set progress as planning_rules.sql wrote it.
CREATE OR REPLACE FUNCTION mahalle.task_progress() RETURNS trigger LANGUAGE plpgsql AS $$
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
