-- Faster rights checks (migration 0017, issue 19). mahalle.person_login() and mahalle.role_allows() were plain SQL
-- functions in the hope of being inlined into their callers, but a SQL function whose body holds a sub-query
-- (EXISTS) is never inlined: PostgreSQL 15 then parsed and planned its body again in every statement that called
-- it. mahalle.scope() calls role_allows four times and, through mahalle.grants(), person_login once, and a single
-- edit asks mahalle.scope() for its row-level security, its permit trigger and its read-back: about 0.1 ms of
-- planning per call. As PL/pgSQL the same tests keep their plans for the session. Same answers, same callers,
-- no SET clause (called from the owner's functions, whose search_path is fixed; every name carries its schema).
-- mahalle.scope() itself asks one query instead of three, and role_allows only for the kinds of role held.

CREATE OR REPLACE FUNCTION mahalle.person_login() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                  WHERE m.roleid = pg_catalog.to_regrole('mahalle_login')
                    AND m.member = pg_catalog.to_regrole(pg_catalog.quote_ident(session_user)));
END $$;

CREATE OR REPLACE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
  RETURN CASE role
    WHEN 'admin' THEN true
    WHEN 'planner' THEN action = 'read' OR layer <> 'neighbourhoods'  -- boundaries decide rights: admins only
    WHEN 'field' THEN action IN ('read', 'attach')
                      OR (action = 'create' AND layer IN ('observations', 'outputs', 'visits', 'referrals', 'needs'))
                      OR (action = 'field' AND EXISTS (
                            SELECT 1 FROM mahalle.layer_registry r
                             WHERE r.name = layer
                               AND pg_catalog.jsonb_array_length(coalesce(r.spec->'field_editable', '[]')) > 0))
    WHEN 'viewer' THEN action = 'read'
    ELSE false END;
END $$;

-- The neighbourhoods (ids) where this statement's user may take `action` on `layer`; NULL: everywhere
-- (including features outside every neighbourhood); an empty array: nowhere. The same answers as migration 0007's:
-- the roles held that allow the action (role_allows) give NULL when one of them is held everywhere, else every
-- neighbourhood they are held in; one pass over the roles held (a planner of 400 neighbourhoods holds 400 roles of
-- one kind), the ids cast only when they are the answer, in the same order.
CREATE OR REPLACE FUNCTION mahalle.scope(action text, layer text) RETURNS bigint[] LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  g jsonb := mahalle.grants();
  everywhere boolean;
  ids text[];
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
  SELECT bool_or(jsonb_typeof(e.value) IS DISTINCT FROM 'array'),
         array_agg(n.id ORDER BY e.k, n.i) FILTER (WHERE n.id IS NOT NULL)
    INTO everywhere, ids
    FROM jsonb_each(mahalle.roles_of(g)) WITH ORDINALITY e(key, value, k)
    LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.value) = 'array' THEN e.value END)
         WITH ORDINALITY n(id, i) ON true
   WHERE mahalle.role_allows(e.key, action, layer);
  IF everywhere THEN
    RETURN NULL;
  END IF;
  RETURN coalesce(ids, '{}')::bigint[];
END $$;

-- The stamps of a new row: the author asked for once, not twice (mahalle.actor() looks the login up each time).
CREATE OR REPLACE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- Owned and generated columns, left out of the comparison (keys a table lacks are ignored; generated
  -- columns read NULL in NEW before they are computed).
  owned constant jsonb := '{"version": null, "created_at": null, "created_by": null, "updated_at": null,
                            "updated_by": null, "area_m2": null, "length_m": null}';
  who text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    who := mahalle.actor();  -- once a row: a bulk import stamps every row it writes
    IF NOT mahalle.restoring() THEN
      NEW.version := 1;
      NEW.created_at := now();
      NEW.created_by := who;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := who;
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

SELECT mahalle.secure_trigger_functions();  -- stamp_row runs as the owner, as every trigger function
