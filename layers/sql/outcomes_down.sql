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


CREATE OR REPLACE FUNCTION mahalle.output_task() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who text := format('outputs %s', CASE WHEN TG_OP = 'INSERT' THEN 'new feature' ELSE 'feature ' || NEW.id END);
  task_n bigint;
  action text := CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE 'edit' END;
BEGIN
  SELECT t.neighbourhood_id INTO task_n FROM public.tasks t WHERE t.id = NEW.task_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', COLUMN = 'task_id',
      MESSAGE = format('%s: task %s does not exist', who, NEW.task_id);
  END IF;
  IF NEW.geom IS NULL OR NEW.neighbourhood_id IS NULL THEN
    NEW.neighbourhood_id := task_n;
  END IF;
  IF (TG_OP = 'INSERT' OR NEW.task_id IS DISTINCT FROM OLD.task_id) AND mahalle.grants() IS NOT NULL
     AND pg_trigger_depth() = 1 THEN
    IF mahalle.feature_neighbourhood('tasks', NEW.task_id) IS NULL AND mahalle.scope('read', 'tasks') IS NOT NULL THEN
      PERFORM mahalle.refuse(format('%s: task %s is not one you may see', who, NEW.task_id));
    END IF;
    IF NOT mahalle.in_scope(task_n, mahalle.scope(action, 'outputs')) THEN
      PERFORM mahalle.refuse(format('you may not record outputs of task %s: it lies in %s', NEW.task_id,
                                    mahalle.place_name(task_n)));
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION mahalle.output_task_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[] := '{}';
BEGIN
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'outputs' THEN  -- (task_targets have no quantity: a separate test)
    IF (NEW.task_id, NEW.kind, NEW.quantity) IS NOT DISTINCT FROM (OLD.task_id, OLD.kind, OLD.quantity) THEN
      RETURN NULL;
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN ids := ids || NEW.task_id; END IF;
  IF TG_OP <> 'INSERT' THEN ids := ids || OLD.task_id; END IF;
  PERFORM mahalle.refresh_task_progress(ids, CASE TG_TABLE_NAME WHEN 'outputs' THEN 'outputs recorded'
                                                                ELSE 'task targets changed' END);
  RETURN NULL;
END $$;

SELECT mahalle.secure_trigger_functions();
