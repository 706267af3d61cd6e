-- Back to the functions of migrations 0007 (person_login, scope) and 0011 (role_allows).

CREATE OR REPLACE FUNCTION mahalle.person_login() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                  WHERE m.roleid = pg_catalog.to_regrole('mahalle_login')
                    AND m.member = pg_catalog.to_regrole(pg_catalog.quote_ident(session_user)))
$$;

CREATE OR REPLACE FUNCTION mahalle.role_allows(role text, action text, layer text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE role
    WHEN 'admin' THEN true
    WHEN 'planner' THEN action = 'read' OR layer <> 'neighbourhoods'  -- boundaries decide rights: admins only
    WHEN 'field' THEN action IN ('read', 'attach')
                      OR (action = 'create' AND layer IN ('observations', 'outputs', 'visits', 'referrals', 'needs'))
                      OR (action = 'field' AND EXISTS (
                            SELECT 1 FROM mahalle.layer_registry r
                             WHERE r.name = layer
                               AND pg_catalog.jsonb_array_length(coalesce(r.spec->'field_editable', '[]')) > 0))
    WHEN 'viewer' THEN action = 'read'
    ELSE false END
$$;

CREATE OR REPLACE FUNCTION mahalle.scope(action text, layer text) RETURNS bigint[] LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

SELECT mahalle.secure_trigger_functions();
