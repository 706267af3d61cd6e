-- Identity: users, their roles per neighbourhood, API tokens, web sessions and the audit log; who a statement
-- runs for (`mahalle.grants`), what they may do (`mahalle.scope`), row-level security for reading and one
-- statement trigger per table for writing. The same rules hold for the web app and for a person's own
-- database login (QGIS straight on PostGIS).

CREATE TABLE mahalle.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,47}$'),
  full_name text CHECK (char_length(full_name) <= 200),
  password_hash text,
  active boolean NOT NULL DEFAULT true,
  db_login text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL DEFAULT mahalle.actor(),
  last_login timestamptz
);

CREATE TABLE mahalle.user_roles (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES mahalle.users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('admin', 'planner', 'field', 'viewer')),
  neighbourhood_id bigint REFERENCES public.neighbourhoods (id) ON DELETE CASCADE,  -- NULL: every neighbourhood
  CONSTRAINT user_roles_once UNIQUE NULLS NOT DISTINCT (user_id, role, neighbourhood_id)
);
CREATE INDEX user_roles_user_idx ON mahalle.user_roles (user_id);

-- A token is shown once; only its SHA-256 is kept (tokens are 256-bit random, so a fast hash is enough).
CREATE TABLE mahalle.api_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES mahalle.users (id) ON DELETE CASCADE,
  prefix text NOT NULL UNIQUE,
  secret_sha256 bytea NOT NULL UNIQUE,
  label text CHECK (char_length(label) <= 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON mahalle.api_tokens (user_id);

CREATE TABLE mahalle.sessions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES mahalle.users (id) ON DELETE CASCADE,
  secret_sha256 bytea NOT NULL UNIQUE,
  csrf text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  ip text,
  user_agent text
);
CREATE INDEX sessions_user_idx ON mahalle.sessions (user_id);
CREATE INDEX sessions_expires_idx ON mahalle.sessions (expires_at);

CREATE TABLE mahalle.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL CHECK (event IN ('login', 'login_failed', 'logout', 'token_used', 'token_created',
                                       'token_revoked', 'user_added', 'user_changed', 'user_removed', 'db_login')),
  user_name text,
  ip text,
  detail text
);
CREATE INDEX audit_log_at_idx ON mahalle.audit_log (at DESC);
CREATE INDEX audit_log_failed_idx ON mahalle.audit_log (event, at) WHERE event = 'login_failed';

-- Layers anyone may read, logged in or not (the neighbourhoods, the streets and the service directory).
ALTER TABLE mahalle.layer_registry ADD COLUMN public boolean NOT NULL DEFAULT false;
UPDATE mahalle.layer_registry SET public = true WHERE name IN ('neighbourhoods', 'streets', 'service_points');

-- Who is this session? ------------------------------------------------------------------------------------

-- A person's own database login (a member of mahalle_login, made by `mahalle user db-login`): its rights come
-- from its user's roles, whatever the session sets. Membership is read from the catalogue directly: pg_has_role
-- counts a superuser as a member of every role.
-- (No SET clause here or in role_allows: a plain SQL function is inlined into its caller's query and planned
-- with it, where one with SET is planned again at every call; they are called from the owner's functions, whose
-- search_path is fixed, and name everything they use with its schema.)
CREATE FUNCTION mahalle.person_login() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                  WHERE m.roleid = pg_catalog.to_regrole('mahalle_login')
                    AND m.member = pg_catalog.to_regrole(pg_catalog.quote_ident(session_user)))
$$;

-- The rights of this statement's user: {"user": name, "roles": {role: [neighbourhood ids] or null (every one)}},
-- or NULL for the server itself (migrations, the CLI, background work), which may do everything.
-- A person's login: from the tables. The application (a trusted role): what it set for the request in
-- `mahalle.grants` after checking the session or token (api/auth.py); its pool sets an empty grant by default,
-- so a request that forgot to say who it runs for can read only public layers.
CREATE FUNCTION mahalle.grants() RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  given text;
BEGIN
  IF mahalle.person_login() THEN
    RETURN coalesce((
      SELECT jsonb_build_object('user', u.name, 'roles', coalesce((
               SELECT jsonb_object_agg(h.role, h.ids) FROM (
                 SELECT r.role, CASE WHEN bool_or(r.neighbourhood_id IS NULL) THEN NULL
                                     ELSE jsonb_agg(r.neighbourhood_id ORDER BY r.neighbourhood_id) END AS ids
                   FROM mahalle.user_roles r WHERE r.user_id = u.id GROUP BY r.role) h), '{}'))
        FROM mahalle.users u
       WHERE u.db_login = session_user AND u.active), '{"user": null, "roles": {}}');
  END IF;
  given := current_setting('mahalle.grants', true);
  IF given IS NULL OR given = '' THEN
    RETURN NULL;
  END IF;
  RETURN given::jsonb;
END $$;

-- Who is editing, for created_by/updated_by and the history: a person's login is always its user; the
-- application names its user in `mahalle.actor`; anything else is its session role.
CREATE OR REPLACE FUNCTION mahalle.actor() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN  -- plpgsql, not SQL: called for every row written, and its plans are kept from call to call
  IF mahalle.person_login() THEN
    RETURN coalesce((SELECT u.name FROM mahalle.users u WHERE u.db_login = session_user), session_user::text);
  END IF;
  RETURN coalesce(nullif(current_setting('mahalle.actor', true), ''), session_user::text);
END $$;

-- What a role lets its holder do with a layer. Actions: read, create, edit, delete, field (change only the
-- layer's field_editable attributes), attach (photos and documents).
CREATE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
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

-- The neighbourhoods (ids) where this statement's user may take `action` on `layer`; NULL: everywhere
-- (including features outside every neighbourhood); an empty array: nowhere.
CREATE FUNCTION mahalle.scope(action text, layer text) RETURNS bigint[] LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g jsonb := mahalle.grants();
  allowed text[];
  everywhere boolean;
  found bigint[];
BEGIN
  IF g IS NULL THEN
    RETURN NULL;
  END IF;
  IF action = 'read' AND EXISTS (SELECT 1 FROM mahalle.layer_registry l WHERE l.name = layer AND l.public) THEN
    RETURN NULL;
  END IF;
  -- The boundaries decide everyone's rights: only an administrator of every neighbourhood may change them (one
  -- of a single neighbourhood could otherwise redraw it over the next).
  IF layer = 'neighbourhoods' AND action <> 'read' THEN
    RETURN CASE WHEN mahalle.admin_everywhere(g) THEN NULL ELSE '{}'::bigint[] END;
  END IF;
  -- Whether a role allows the action is asked once per kind of role, then one pass over the roles held (a
  -- planner of 400 neighbourhoods holds 400 roles of one kind).
  allowed := ARRAY(SELECT k FROM unnest(ARRAY['admin', 'planner', 'field', 'viewer']) k
                    WHERE mahalle.role_allows(k, action, layer));
  SELECT bool_or(jsonb_typeof(e.value) IS DISTINCT FROM 'array') INTO everywhere
    FROM jsonb_each(mahalle.roles_of(g)) e WHERE e.key = ANY (allowed);
  IF everywhere THEN
    RETURN NULL;
  END IF;
  found := ARRAY(SELECT n::bigint FROM jsonb_each(mahalle.roles_of(g)) e, jsonb_array_elements_text(e.value) n
                  WHERE e.key = ANY (allowed));
  RETURN found;
END $$;

-- The roles of a grant, none for anything malformed (never an error in a policy).
CREATE FUNCTION mahalle.roles_of(g jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(g->'roles') = 'object' THEN g->'roles' ELSE '{}'::jsonb END
$$;

CREATE FUNCTION mahalle.admin_everywhere(g jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(mahalle.roles_of(g)->'admin' = 'null'::jsonb, false)
$$;

CREATE FUNCTION mahalle.in_scope(n bigint, scope bigint[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT scope IS NULL OR coalesce(n = ANY (scope), false)
$$;

-- Whether this statement's user reads every row of every layer (lets the history policy skip its per-row test).
CREATE FUNCTION mahalle.reads_everything() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g jsonb := mahalle.grants();
BEGIN
  RETURN g IS NULL OR EXISTS (SELECT 1 FROM jsonb_each(mahalle.roles_of(g)) e
                               WHERE jsonb_typeof(e.value) IS DISTINCT FROM 'array');
END $$;

-- The neighbourhood a feature of any layer lies in (the neighbourhoods layer: the feature itself); NULL for a
-- feature the user may not read, so it tells nothing about rows hidden from them.
CREATE FUNCTION mahalle.feature_neighbourhood(layer text, fid bigint) RETURNS bigint LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  IF layer = 'neighbourhoods' THEN
    RETURN CASE WHEN mahalle.in_scope(fid, mahalle.scope('read', layer)) THEN fid END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM mahalle.layer_registry l WHERE l.name = layer) THEN
    RETURN NULL;
  END IF;
  BEGIN
    EXECUTE format('SELECT neighbourhood_id FROM public.%I WHERE id = $1', layer) INTO n USING fid;
  EXCEPTION WHEN undefined_column OR undefined_table THEN
    RETURN NULL;
  END;
  RETURN CASE WHEN mahalle.in_scope(n, mahalle.scope('read', layer)) THEN n END;
END $$;

-- What a refusal says: where, and what the user's roles are.
CREATE FUNCTION mahalle.place_name(n bigint) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE WHEN n IS NULL THEN 'no neighbourhood (outside every neighbourhood)'
              ELSE coalesce((SELECT format('neighbourhood %s (%s)', x.code, x.name) FROM public.neighbourhoods x
                              WHERE x.id = n), format('neighbourhood %s', n)) END
$$;

CREATE FUNCTION mahalle.roles_text() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE WHEN g->>'user' IS NULL THEN 'you are not logged in'
              ELSE format('your roles: %s', coalesce((
                SELECT string_agg(format('%s in %s', e.key, CASE WHEN jsonb_typeof(e.value) = 'array'
                         THEN (SELECT coalesce(string_agg(x.code, ', ' ORDER BY x.code), 'no neighbourhood')
                                 FROM public.neighbourhoods x
                                WHERE x.id IN (SELECT n::bigint FROM jsonb_array_elements_text(e.value) n))
                         ELSE 'every neighbourhood' END), '; ')
                  FROM jsonb_each(mahalle.roles_of(g)) e), 'none')) END
    FROM (SELECT mahalle.grants() AS g) s
$$;

CREATE FUNCTION mahalle.refuse(message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format('%s (%s)', message, mahalle.roles_text());
END $$;

-- Writing: AFTER each statement, over its transition tables, so a bulk import pays for one look at the rights,
-- not one per row. Updates the database makes itself from inside another trigger (task progress, quantities,
-- the surface of a paved street) are consequences of a permitted statement and are not checked again; rows it
-- adds or deletes that way (installed assets, a cascade to subtasks) are, so no cascade reaches another
-- neighbourhood. A person's own login cannot name the cause the history records.
CREATE FUNCTION mahalle.unchecked() RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF mahalle.person_login() THEN
    PERFORM set_config('mahalle.cause', '', true);
  END IF;
  RETURN mahalle.grants() IS NULL;
END $$;
CREATE FUNCTION mahalle.permit_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  layer constant text := TG_TABLE_NAME;
  ncol constant text := CASE WHEN TG_TABLE_NAME = 'neighbourhoods' THEN 'id' ELSE 'neighbourhood_id' END;
  edit bigint[];
  field bigint[];
  free text[];
  bad record;
BEGIN
  IF mahalle.unchecked() OR (TG_OP = 'UPDATE' AND pg_trigger_depth() > 1) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT id, %I AS n FROM new_rows WHERE NOT mahalle.in_scope(%I, $1) LIMIT 1', ncol, ncol)
      INTO bad USING mahalle.scope('create', layer);
    IF bad.id IS NOT NULL THEN
      PERFORM mahalle.refuse(format('you may not add %s in %s', layer, mahalle.place_name(bad.n)));
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT id, %I AS n FROM old_rows WHERE NOT mahalle.in_scope(%I, $1) LIMIT 1', ncol, ncol)
      INTO bad USING mahalle.scope('delete', layer);
    IF bad.id IS NOT NULL THEN
      PERFORM mahalle.refuse(format('you may not delete %s feature %s in %s', layer, bad.id,
                                    mahalle.place_name(bad.n)));
    END IF;
  ELSE
    edit := mahalle.scope('edit', layer);
    field := mahalle.scope('field', layer);
    EXECUTE format('SELECT id, %I AS n FROM old_rows WHERE NOT (mahalle.in_scope(%I, $1) OR mahalle.in_scope(%I, $2)) '
                   'LIMIT 1', ncol, ncol, ncol) INTO bad USING edit, field;
    IF bad.id IS NOT NULL THEN
      PERFORM mahalle.refuse(format('you may not change %s feature %s in %s', layer, bad.id,
                                    mahalle.place_name(bad.n)));
    END IF;
    EXECUTE format('SELECT id, %I AS n FROM new_rows WHERE NOT (mahalle.in_scope(%I, $1) OR mahalle.in_scope(%I, $2)) '
                   'LIMIT 1', ncol, ncol, ncol) INTO bad USING edit, field;
    IF bad.id IS NOT NULL THEN
      PERFORM mahalle.refuse(format('you may not move %s feature %s into %s', layer, bad.id,
                                    mahalle.place_name(bad.n)));
    END IF;
    -- Rows the user may change only as a field worker: nothing but the layer's field_editable attributes.
    SELECT coalesce(array_agg(x), '{}') INTO free FROM (
      SELECT jsonb_array_elements_text(coalesce(r.spec->'field_editable', '[]')) x
        FROM mahalle.layer_registry r WHERE r.name = layer) s;
    EXECUTE format('SELECT a.id, b.%I AS n FROM new_rows a JOIN old_rows b ON b.id = a.id '
                   'WHERE NOT mahalle.in_scope(b.%I, $1) AND (to_jsonb(a) - $2) IS DISTINCT FROM (to_jsonb(b) - $2) '
                   'LIMIT 1', ncol, ncol) INTO bad
      USING edit, free || ARRAY['version', 'updated_at', 'updated_by', 'area_m2', 'length_m'];
    IF bad.id IS NOT NULL THEN
      PERFORM mahalle.refuse(format('in %s you may change only %s of %s features (feature %s)',
                                    mahalle.place_name(bad.n), coalesce(nullif(array_to_string(free, ', '), ''),
                                    'nothing'), layer, bad.id));
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- BEFORE each row that lands in a neighbourhood (a new one, or one moved): refused here, with a message, when the
-- user may not add or edit there. Row-level security would refuse it too, but only with PostgreSQL's own
-- words, and before the statement trigger above could speak. Rows that stay where they were cost one comparison.
CREATE FUNCTION mahalle.permit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  edit bigint[];
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.neighbourhood_id IS NOT DISTINCT FROM OLD.neighbourhood_id THEN
    IF TG_TABLE_NAME <> 'interventions' THEN
      RETURN NEW;
    ELSIF NEW.geom IS NOT DISTINCT FROM OLD.geom THEN
      RETURN NEW;
    END IF;
  END IF;
  IF mahalle.grants() IS NULL OR (TG_OP = 'UPDATE' AND pg_trigger_depth() > 1) THEN
    RETURN NEW;
  END IF;
  -- An intervention of a user of some neighbourhoods lies wholly within one of them: completing it makes assets
  -- at its points, and those must not land in a neighbourhood its planner may not edit.
  IF TG_TABLE_NAME = 'interventions' THEN  -- (a separate test: other tables may have no geom to name)
    edit := mahalle.scope(CASE TG_OP WHEN 'INSERT' THEN 'create' ELSE 'edit' END, TG_TABLE_NAME);
    IF edit IS NOT NULL AND NEW.geom IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM public.neighbourhoods n WHERE n.id = ANY (edit) AND ST_CoveredBy(NEW.geom, n.geom)) THEN
      PERFORM mahalle.refuse(format('an intervention must lie wholly within a neighbourhood where you may plan; '
                                    'this one reaches beyond %s', mahalle.place_name(NEW.neighbourhood_id)));
    END IF;
  END IF;
  IF TG_OP = 'INSERT' AND NOT mahalle.in_scope(NEW.neighbourhood_id, mahalle.scope('create', TG_TABLE_NAME)) THEN
    PERFORM mahalle.refuse(format('you may not add %s in %s', TG_TABLE_NAME, mahalle.place_name(NEW.neighbourhood_id)));
  ELSIF TG_OP = 'UPDATE' AND NOT mahalle.in_scope(NEW.neighbourhood_id, mahalle.scope('edit', TG_TABLE_NAME)) THEN
    PERFORM mahalle.refuse(format('you may not move %s feature %s into %s', TG_TABLE_NAME, NEW.id,
                                  mahalle.place_name(NEW.neighbourhood_id)));
  END IF;
  RETURN NEW;
END $$;

-- Planning links (intervention targets, task links and updates): changed by whoever may edit their parent (a
-- parent deleted in the same statement was itself checked; a link to no parent is refused by its foreign key).
CREATE FUNCTION mahalle.permit_links() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  parent constant text := TG_ARGV[0];
  fk constant text := TG_ARGV[1];
  bad record;
  rows text;
BEGIN
  IF mahalle.unchecked() OR (TG_OP = 'UPDATE' AND pg_trigger_depth() > 1) THEN
    RETURN NULL;
  END IF;
  rows := CASE TG_OP WHEN 'INSERT' THEN 'SELECT * FROM new_rows' WHEN 'DELETE' THEN 'SELECT * FROM old_rows'
                     ELSE 'SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows' END;
  EXECUTE format('SELECT r.%I AS pid, p.neighbourhood_id AS n FROM (%s) r LEFT JOIN public.%I p ON p.id = r.%I '
                 'WHERE p.id IS NOT NULL AND NOT mahalle.in_scope(p.neighbourhood_id, $1) LIMIT 1', fk, rows, parent, fk)
    INTO bad USING mahalle.scope('edit', parent);
  IF bad.pid IS NOT NULL THEN
    PERFORM mahalle.refuse(format('you may not change what %s %s is linked to: it lies in %s', parent, bad.pid,
                                  mahalle.place_name(bad.n)));
  END IF;
  -- What a link names must be a feature the user may read: a link is no way to learn of hidden rows (their
  -- existence, or their progress through a task's derived progress).
  IF TG_OP <> 'DELETE' AND TG_ARGV[2] = 'features' THEN
    SELECT r.layer, r.feature_id INTO bad FROM new_rows r
     WHERE mahalle.feature_neighbourhood(r.layer, r.feature_id) IS NULL
       AND mahalle.scope('read', r.layer) IS NOT NULL
     LIMIT 1;
    IF bad.layer IS NOT NULL THEN
      PERFORM mahalle.refuse(format('%s feature %s is not one you may see', bad.layer, bad.feature_id));
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Photos and documents: attached by whoever may attach to the feature (field workers too), moved or removed by
-- its editors. A person's own login stores them in the table, never as a path on the server.
CREATE FUNCTION mahalle.permit_attachments() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  IF mahalle.unchecked() OR (TG_OP = 'UPDATE' AND pg_trigger_depth() > 1) THEN
    RETURN NULL;
  END IF;
  SELECT NULL::text AS layer, NULL::bigint AS feature_id, NULL::bigint AS n INTO bad;
  IF TG_OP <> 'INSERT' THEN
    SELECT r.layer, r.feature_id, mahalle.feature_neighbourhood(r.layer, r.feature_id) AS n INTO bad FROM old_rows r
     WHERE NOT mahalle.in_scope(mahalle.feature_neighbourhood(r.layer, r.feature_id), mahalle.scope('edit', r.layer))
     LIMIT 1;
  END IF;
  IF bad.layer IS NULL AND TG_OP <> 'DELETE' THEN
    SELECT r.layer, r.feature_id, mahalle.feature_neighbourhood(r.layer, r.feature_id) AS n INTO bad FROM new_rows r
     WHERE NOT mahalle.in_scope(mahalle.feature_neighbourhood(r.layer, r.feature_id), mahalle.scope('attach', r.layer))
     LIMIT 1;
    IF bad.layer IS NULL AND mahalle.person_login() AND EXISTS (SELECT 1 FROM new_rows WHERE path IS NOT NULL) THEN
      PERFORM mahalle.refuse('an attachment made from a database login keeps its bytes in the table (data), not a path');
    END IF;
  END IF;
  IF bad.layer IS NOT NULL THEN
    PERFORM mahalle.refuse(format('you may not change the attachments of %s feature %s in %s', bad.layer,
                                  bad.feature_id, mahalle.place_name(bad.n)));
  END IF;
  RETURN NULL;
END $$;

-- Puts a table under these rules: row-level security for reading (what a login sees, and may update or delete),
-- the statement triggers for what it may write (with a message naming the feature and the neighbourhood).
CREATE FUNCTION mahalle.protect_table(tbl text, read_rule text, permit text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  event text;
  transition text;
BEGIN
  EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS mahalle_read ON public.%I', tbl);
  EXECUTE format('DROP POLICY IF EXISTS mahalle_write ON public.%I', tbl);
  EXECUTE format('DROP POLICY IF EXISTS mahalle_insert ON public.%I', tbl);
  EXECUTE format('CREATE POLICY mahalle_read ON public.%I FOR SELECT USING (%s)', tbl, read_rule);
  EXECUTE format('CREATE POLICY mahalle_insert ON public.%I FOR INSERT WITH CHECK (true)', tbl);
  -- Updates and deletes reach only rows the user can read: a hidden row never meets a trigger whose message
  -- could describe it.
  EXECUTE format('CREATE POLICY mahalle_write ON public.%I FOR UPDATE USING (%s) WITH CHECK (true)', tbl, read_rule);
  EXECUTE format('DROP POLICY IF EXISTS mahalle_delete ON public.%I', tbl);
  EXECUTE format('CREATE POLICY mahalle_delete ON public.%I FOR DELETE USING (%s)', tbl, read_rule);
  FOR event, transition IN VALUES ('insert', 'NEW TABLE AS new_rows'),
                                  ('update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                                  ('delete', 'OLD TABLE AS old_rows') LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'z05_permit_' || event, tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON public.%I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
                   'z05_permit_' || event, upper(event), tbl, transition, permit);
  END LOOP;
END $$;

-- A layer of the catalogue: read where the user may read (InitPlans: the rights are worked out once per
-- statement, and the GiST index still serves bounding boxes; see core/roles.py on LEAKPROOF).
CREATE FUNCTION mahalle.protect_layer(layer text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  ncol text := CASE WHEN layer = 'neighbourhoods' THEN 'id' ELSE 'neighbourhood_id' END;
BEGIN
  PERFORM mahalle.protect_table(layer, format(
    '(SELECT mahalle.scope(''read'', %L)) IS NULL OR %I = ANY ((SELECT mahalle.scope(''read'', %L))::bigint[])',
    layer, ncol, layer), 'mahalle.permit_rows()');
  EXECUTE format('DROP TRIGGER IF EXISTS a25_permit ON public.%I', layer);
  IF ncol = 'neighbourhood_id' THEN
    EXECUTE format('CREATE TRIGGER a25_permit BEFORE INSERT OR UPDATE ON public.%I '
                   'FOR EACH ROW EXECUTE FUNCTION mahalle.permit_row()', layer);
  END IF;
END $$;

CREATE FUNCTION mahalle.protect_registered_layer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass(format('public.%I', NEW.name)) IS NOT NULL THEN  -- a registration without its table is inert
    PERFORM mahalle.protect_layer(NEW.name);
  END IF;
  RETURN NULL;
END $$;

-- A custom layer is protected as it is registered (mahalle.create_custom_layer).
CREATE TRIGGER z20_protect_layer AFTER INSERT ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.protect_registered_layer();

SELECT mahalle.protect_layer(name) FROM mahalle.layer_registry
 WHERE to_regclass(format('public.%I', name)) IS NOT NULL ORDER BY name;
SELECT mahalle.protect_table('intervention_targets',
  'EXISTS (SELECT 1 FROM public.interventions p WHERE p.id = intervention_id)',
  'mahalle.permit_links(''interventions'', ''intervention_id'', ''features'')');
SELECT mahalle.protect_table('task_links', 'EXISTS (SELECT 1 FROM public.tasks p WHERE p.id = task_id)',
                             'mahalle.permit_links(''tasks'', ''task_id'', ''features'')');
SELECT mahalle.protect_table('task_updates', 'EXISTS (SELECT 1 FROM public.tasks p WHERE p.id = task_id)',
                             'mahalle.permit_links(''tasks'', ''task_id'', ''none'')');
SELECT mahalle.protect_table('attachments',
  '(SELECT mahalle.reads_everything()) OR mahalle.in_scope(mahalle.feature_neighbourhood(layer, feature_id), '
  'mahalle.scope(''read'', layer))', 'mahalle.permit_attachments()');

-- The history: a login reads the history of what it may read.
ALTER TABLE mahalle.history ENABLE ROW LEVEL SECURITY;
CREATE POLICY mahalle_read ON mahalle.history FOR SELECT USING (
  (SELECT mahalle.reads_everything()) OR mahalle.in_scope(
    CASE WHEN layer = 'neighbourhoods' THEN feature_id
         ELSE coalesce((after->>'neighbourhood_id')::bigint, (before->>'neighbourhood_id')::bigint) END,
    mahalle.scope('read', layer)));
CREATE POLICY mahalle_append ON mahalle.history FOR INSERT WITH CHECK (true);

-- Restoring keeps a deleted feature's version and creation stamps; only the server may ask for that.
CREATE OR REPLACE FUNCTION mahalle.restoring() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('mahalle.restoring', true), '') = 'on' AND NOT mahalle.person_login()
$$;

CREATE OR REPLACE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- Owned and generated columns, left out of the comparison (keys a table lacks are ignored; generated
  -- columns read NULL in NEW before they are computed).
  owned constant jsonb := '{"version": null, "created_at": null, "created_by": null, "updated_at": null,
                            "updated_by": null, "area_m2": null, "length_m": null}';
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT mahalle.restoring() THEN
      NEW.version := 1;
      NEW.created_at := now();
      NEW.created_by := mahalle.actor();
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := mahalle.actor();
    RETURN NEW;
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.uid IS DISTINCT FROM OLD.uid THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('%s feature %s: the id and uid of a feature cannot be changed', TG_TABLE_NAME, OLD.id);
  END IF;
  NEW.version := OLD.version;
  NEW.created_at := OLD.created_at;
  NEW.created_by := OLD.created_by;
  NEW.updated_at := OLD.updated_at;
  NEW.updated_by := OLD.updated_by;
  IF jsonb_populate_record(NEW, owned) IS NOT DISTINCT FROM jsonb_populate_record(OLD, owned) THEN
    RETURN NEW;  -- nothing changed: same version, same stamps, no history row
  END IF;
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

-- Making a layer public or not: admins of every neighbourhood only.
CREATE FUNCTION mahalle.set_layer_public(layer text, value boolean) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM mahalle.require_admin('make a layer public or private');
  UPDATE mahalle.layer_registry SET public = value WHERE name = layer;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('there is no layer named %L', layer);
  END IF;
END $$;

-- Custom layers are made and dropped by administrators of every neighbourhood only (the functions are the
-- owner's; a person's database login must not reach them either).
CREATE FUNCTION mahalle.require_admin(what text) RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF mahalle.grants() IS NOT NULL AND NOT mahalle.admin_everywhere(mahalle.grants()) THEN
    PERFORM mahalle.refuse(format('only an administrator of every neighbourhood may %s', what));
  END IF;
END $$;

CREATE FUNCTION mahalle.guard_registry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mahalle.require_admin(CASE TG_OP WHEN 'DELETE' THEN 'drop a layer' ELSE 'define a layer' END);
  RETURN NULL;
END $$;
CREATE TRIGGER a00_guard_registry AFTER INSERT OR DELETE ON mahalle.layer_registry
  FOR EACH ROW EXECUTE FUNCTION mahalle.guard_registry();

-- Every trigger function runs as the owner: the history is written by its function, not by the editing role
-- (no role may insert history rows of its own making), and derived values (task progress, quantities) are
-- worked out from every row, not from the rows the editing user happens to see.
CREATE FUNCTION mahalle.secure_trigger_functions() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'mahalle'::regnamespace AND p.prorettype = 'trigger'::regtype
              AND NOT p.prosecdef LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
END $$;
SELECT mahalle.secure_trigger_functions();

REVOKE ALL ON FUNCTION mahalle.set_layer_public(text, boolean), mahalle.secure_trigger_functions() FROM PUBLIC;
