-- Users as they are now (an erased user's latest image is the anonymised row).
with latest as ({{ latest_image('user') }})
select
    entity_id as user_id,
    payload ->> 'full_name' as full_name,
    payload ->> 'display_name' as display_name,
    payload ->> 'role' as role,
    payload ->> 'status' as status,
    payload ->> 'locale' as locale,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    cast(payload ->> 'last_login_at' as timestamptz) as last_login_at,
    payload ->> 'deleted_at' is not null as is_erased,
    version
from latest
