DROP TRIGGER IF EXISTS z99_notify_metadata ON mahalle.layer_registry;
DROP TRIGGER IF EXISTS z99_notify_metadata ON public.neighbourhoods;
DROP FUNCTION IF EXISTS mahalle.notify_metadata();
