-- Undoes identity.sql (the trigger functions stay the owner's: harmless, and the history keeps its guard).
DO $$
DECLARE
  t text;
  event text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relrowsecurity LOOP
    EXECUTE format('ALTER TABLE public.%I DISABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS mahalle_read ON public.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS mahalle_insert ON public.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS mahalle_write ON public.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS mahalle_delete ON public.%I', t);
    EXECUTE format('DROP TRIGGER IF EXISTS a25_permit ON public.%I', t);
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'z05_permit_' || event, t);
    END LOOP;
  END LOOP;
END $$;
ALTER TABLE mahalle.history DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS mahalle_read ON mahalle.history;
DROP POLICY IF EXISTS mahalle_append ON mahalle.history;
DROP TRIGGER IF EXISTS z20_protect_layer ON mahalle.layer_registry;
DROP TRIGGER IF EXISTS a00_guard_registry ON mahalle.layer_registry;

CREATE OR REPLACE FUNCTION mahalle.actor() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(current_setting('mahalle.actor', true), ''), current_user::text)
$$;

CREATE OR REPLACE FUNCTION mahalle.stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owned constant jsonb := '{"version": null, "created_at": null, "created_by": null, "updated_at": null,
                            "updated_by": null, "area_m2": null, "length_m": null}';
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF coalesce(current_setting('mahalle.restoring', true), '') <> 'on' THEN
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
    RETURN NEW;
  END IF;
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  NEW.updated_by := mahalle.actor();
  RETURN NEW;
END $$;

DROP FUNCTION IF EXISTS mahalle.protect_registered_layer(), mahalle.protect_layer(text),
  mahalle.protect_table(text, text, text), mahalle.permit_rows(), mahalle.permit_row(), mahalle.permit_links(),
  mahalle.permit_attachments(), mahalle.guard_registry(), mahalle.require_admin(text),
  mahalle.set_layer_public(text, boolean), mahalle.restoring(), mahalle.refuse(text), mahalle.roles_text(),
  mahalle.place_name(bigint), mahalle.feature_neighbourhood(text, bigint), mahalle.reads_everything(),
  mahalle.in_scope(bigint, bigint[]), mahalle.roles_of(jsonb), mahalle.admin_everywhere(jsonb), mahalle.scope(text, text), mahalle.role_allows(text, text, text),
  mahalle.grants(), mahalle.person_login(), mahalle.secure_trigger_functions(), mahalle.unchecked();
DROP TABLE IF EXISTS mahalle.audit_log, mahalle.sessions, mahalle.api_tokens, mahalle.user_roles, mahalle.users;
ALTER TABLE mahalle.layer_registry DROP COLUMN IF EXISTS public;
