DROP TRIGGER z99_notify_identity ON mahalle.users;
DROP TRIGGER z99_notify_identity ON mahalle.user_roles;
DROP TRIGGER z99_notify_identity ON mahalle.api_tokens;
DROP TRIGGER z99_notify_identity ON mahalle.sessions;
DROP TRIGGER z99_notify_identity_row ON mahalle.sessions;
DROP FUNCTION mahalle.notify_identity();
