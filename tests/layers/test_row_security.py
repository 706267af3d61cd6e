import psycopg
def test_explore(demo_db_url):
    with psycopg.connect(demo_db_url) as c:
        for q in ["SELECT id, code, name, ST_AsText(ST_Envelope(geom)) FROM neighbourhoods",
                  "SELECT count(*), count(DISTINCT neighbourhood_id) FROM parcels",
                  "SELECT count(*) FROM streets", "SELECT count(*) FROM service_points",
                  "SELECT id, kind, condition, neighbourhood_id, ST_AsText(geom) FROM assets LIMIT 3",
                  "SELECT count(*) FROM assets",
                  "SELECT id, neighbourhood_id, ST_AsText(ST_Centroid(geom)) FROM parcels LIMIT 2",
                  "SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_name='observations'",
                  "SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_name='parcels'",
                  "SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_name='neighbourhoods'",
                  "SELECT column_name FROM information_schema.columns WHERE table_schema='mahalle' and table_name='history'",
                  "SELECT name, public FROM mahalle.layer_registry",
                  "SELECT current_setting('server_version'), current_setting('password_encryption')",
                  ]:
            print(q); [print("  ", r) for r in c.execute(q).fetchall()]
