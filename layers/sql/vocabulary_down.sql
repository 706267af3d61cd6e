-- Undoes layers/sql/vocabulary.sql (migration 0013 going down): the lists are the catalogue's again.
DROP TABLE IF EXISTS mahalle.vocabulary;
DROP FUNCTION IF EXISTS mahalle.check_vocabulary(), mahalle.vocabulary_delete(), mahalle.vocabulary_admin();

CREATE OR REPLACE FUNCTION mahalle.output_kinds() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(c ->> 'value' ORDER BY o), '{}')
    FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a,
         jsonb_array_elements(a -> 'choices') WITH ORDINALITY x(c, o)
   WHERE r.name = 'outputs' AND a ->> 'name' = 'kind'
$$;
CREATE OR REPLACE FUNCTION mahalle.coverage_categories() RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_prepend('park', coalesce(array_agg(c ->> 'value' ORDER BY o), '{}'))
    FROM mahalle.layer_registry r, jsonb_array_elements(r.spec -> 'attributes') a,
         jsonb_array_elements(a -> 'choices') WITH ORDINALITY x(c, o)
   WHERE r.name = 'service_points' AND a ->> 'name' = 'category'
$$;
DROP FUNCTION IF EXISTS mahalle.value_allowed(text, text, text, text), mahalle.values_allowed(text, text, text[], text[]),
  mahalle.allowed_values(text, text);
