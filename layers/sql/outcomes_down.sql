-- Undoes layers/sql/outcomes.sql (migration 0011 going down); the tables and columns go in the migration.
DROP TRIGGER IF EXISTS a04_counted ON public.outputs;
DROP TRIGGER IF EXISTS a26_status ON public.tasks;
DROP FUNCTION IF EXISTS mahalle.task_status_follows_progress();
DROP FUNCTION IF EXISTS mahalle.guard_counted_output(), mahalle.sync_counted_outputs(), mahalle.drop_counted_outputs(),
  mahalle.counted_outputs(text, jsonb), mahalle.counted_place(), mahalle.need_place(),
  mahalle.referenced_neighbourhood(text, text, text, bigint) CASCADE;

CREATE OR REPLACE FUNCTION mahalle.task_outputs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM public.outputs WHERE task_id = OLD.id;
  IF n = 0 THEN
    RETURN OLD;
  END IF;
  IF NOT mahalle.cascade_requested() THEN
    RAISE EXCEPTION USING ERRCODE = '23M02',
      MESSAGE = format('tasks feature %s cannot be deleted: %s outputs are recorded against it; delete them first, '
                       'or delete with cascade (which removes them too and keeps everything in the history)',
                       OLD.id, n);
  END IF;
  IF coalesce(current_setting('mahalle.cause', true), '') = '' THEN
    PERFORM set_config('mahalle.cause', format('task %s deleted with cascade', OLD.id), true);
  END IF;
  DELETE FROM public.outputs WHERE task_id = OLD.id;
  RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'planner' THEN action = 'read' OR layer <> 'neighbourhoods'  -- boundaries decide rights: admins only
    WHEN 'field' THEN action IN ('read', 'attach')
                      OR (action = 'create' AND layer IN ('observations', 'outputs'))
                      OR (action = 'field' AND EXISTS (
                            SELECT 1 FROM mahalle.layer_registry r
                             WHERE r.name = layer
                               AND pg_catalog.jsonb_array_length(coalesce(r.spec->'field_editable', '[]')) > 0))
    WHEN 'viewer' THEN action = 'read'
    ELSE false END
$$;

SELECT mahalle.secure_trigger_functions();
