-- Undoes migration 0016: the row checks run for every row again, plausibility_problem is migration 0014's loop,
-- the checked loads' table and functions go.
DROP TRIGGER IF EXISTS z40_checked_loads ON mahalle.layer_registry;
SELECT mahalle.checked_load_triggers(name, false) FROM mahalle.layer_registry ORDER BY name;
CREATE OR REPLACE FUNCTION mahalle.plausibility_problem(layer text, g geometry, was bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  r record;
  measured double precision;
BEGIN
  IF g IS NULL THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT p.rule, p.value FROM public.plausibility_rules p
            WHERE p.layer = plausibility_problem.layer AND p.enabled ORDER BY p.rule LOOP
    IF r.rule = 'max_length' AND ST_Dimension(g) = 1 THEN
      measured := ST_Length(g::geography);
      IF measured > r.value THEN
        RETURN jsonb_build_object('rule', 'line_too_long', 'params', jsonb_build_object(
            'layer', layer, 'length_m', round(measured::numeric), 'max_m', r.value),
          'message', format('the line is %s m long; this layer''s plausibility rule allows at most %s m '
                            '(an administrator sets it)', round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'max_area' AND ST_Dimension(g) = 2 THEN
      measured := ST_Area(g::geography);
      IF measured > r.value THEN
        RETURN jsonb_build_object('rule', 'area_too_large', 'params', jsonb_build_object(
            'layer', layer, 'area_m2', round(measured::numeric), 'max_m2', r.value),
          'message', format('the area is %s m²; this layer''s plausibility rule allows at most %s m² '
                            '(an administrator sets it)', round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'near_neighbourhoods' THEN
      -- Inside or touching a neighbourhood (the GiST index answers) is near enough; the distance only otherwise.
      IF EXISTS (SELECT 1 FROM public.neighbourhoods)
         AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_Intersects(n.geom, g))
         AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n
                          WHERE ST_DWithin(n.geom::geography, g::geography, r.value)) THEN
        SELECT min(ST_Distance(n.geom::geography, g::geography)) INTO measured FROM public.neighbourhoods n;
        RETURN jsonb_build_object('rule', 'outside_extent', 'params', jsonb_build_object(
            'layer', layer, 'distance_m', round(measured::numeric), 'max_m', r.value),
          'message', format('the feature lies %s m from the nearest neighbourhood; this layer''s plausibility rule '
                            'allows at most %s m (is it in the right place, or the right coordinate system?)',
                            round(measured::numeric), r.value));
      END IF;
    ELSIF r.rule = 'keep_neighbourhood' AND was IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM public.neighbourhoods n WHERE ST_Intersects(n.geom, g)) THEN
      RETURN jsonb_build_object('rule', 'left_neighbourhood', 'params', jsonb_build_object(
          'layer', layer, 'neighbourhood', (SELECT x.name FROM public.neighbourhoods x WHERE x.id = was),
          'code', (SELECT x.code FROM public.neighbourhoods x WHERE x.id = was)),
        'message', format('the feature would lie outside every neighbourhood (it was in %s); move it into a '
                          'neighbourhood, or set its neighbourhood to none in the same edit if it really lies '
                          'outside', mahalle.place_name(was)));
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

DROP FUNCTION IF EXISTS mahalle.plausibility_verdict(text, text, double precision, geometry, bigint, boolean),
  mahalle.plausibility_apart(text, text, double precision, geometry, bigint),
  mahalle.plausibility_refusal(text, text, double precision, double precision, bigint),
  mahalle.checked_load_registered_layer(), mahalle.checked_load_triggers(text, boolean),
  mahalle.checked_load(text), mahalle.begin_checked_load(text), mahalle.end_checked_load(),
  mahalle.defer_indexes(text);
DROP TABLE IF EXISTS mahalle.checked_loads;
DROP FUNCTION IF EXISTS mahalle.checked_load_ended();
