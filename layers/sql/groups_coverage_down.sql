DROP TABLE IF EXISTS public.coverage_rules, public.neighbourhood_group_members, public.neighbourhood_groups;
DROP FUNCTION IF EXISTS mahalle.office_settings_admin(), mahalle.check_coverage_rule(), mahalle.coverage_categories();
