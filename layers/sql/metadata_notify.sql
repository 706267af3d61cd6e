-- Running servers cache the catalogue and the CRS list (the neighbourhoods' UTM zones); a change to either
-- source announces itself on one channel, once per statement, after commit (NOTIFY is transactional).
CREATE FUNCTION mahalle.notify_metadata() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mahalle_metadata', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER z99_notify_metadata AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mahalle.layer_registry
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_metadata();
CREATE TRIGGER z99_notify_metadata AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.neighbourhoods
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_metadata();
