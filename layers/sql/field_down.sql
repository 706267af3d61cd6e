-- Undoes field.sql.
DROP TABLE IF EXISTS public.field_uploads;
DROP TABLE IF EXISTS public.field_changes;
DROP FUNCTION IF EXISTS mahalle.stamp_field_upload();
DROP FUNCTION IF EXISTS mahalle.stamp_field_change();
DROP FUNCTION IF EXISTS mahalle.user_name();
ALTER TABLE public.attachments
  DROP CONSTRAINT IF EXISTS attachments_data_size,
  DROP COLUMN IF EXISTS width,
  DROP COLUMN IF EXISTS height,
  DROP COLUMN IF EXISTS exif_position,
  DROP COLUMN IF EXISTS thumbnail;
DROP TRIGGER IF EXISTS a26_review ON public.observations;
DROP FUNCTION IF EXISTS mahalle.observation_review();
