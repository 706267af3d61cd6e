-- Running servers keep the principal each credential stands for a few seconds (api/identity/principal.py); a
-- change that could take a right away or alter who a credential stands for announces itself on its own channel,
-- after commit (NOTIFY is transactional), and every server drops what it kept. The touches made on every use (a
-- token's last use, a session's sliding expiry, which only moves later) do not announce themselves.
CREATE FUNCTION mahalle.notify_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mahalle_identity', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER z99_notify_identity AFTER UPDATE OR DELETE OR TRUNCATE ON mahalle.users
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_identity();
CREATE TRIGGER z99_notify_identity AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mahalle.user_roles
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_identity();
CREATE TRIGGER z99_notify_identity AFTER UPDATE OF user_id, secret_sha256, expires_at, revoked_at OR DELETE
  OR TRUNCATE ON mahalle.api_tokens FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_identity();
CREATE TRIGGER z99_notify_identity AFTER DELETE OR TRUNCATE ON mahalle.sessions
  FOR EACH STATEMENT EXECUTE FUNCTION mahalle.notify_identity();
-- A session's expiry only moves later when it is used; moved earlier (or its owner or secret changed) it is news.
CREATE TRIGGER z99_notify_identity_row AFTER UPDATE ON mahalle.sessions FOR EACH ROW
  WHEN (NEW.expires_at < OLD.expires_at OR NEW.user_id <> OLD.user_id OR NEW.secret_sha256 <> OLD.secret_sha256
        OR NEW.csrf <> OLD.csrf)
  EXECUTE FUNCTION mahalle.notify_identity();
SELECT mahalle.secure_trigger_functions();
