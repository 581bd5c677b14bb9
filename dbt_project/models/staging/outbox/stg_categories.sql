with latest as ({{ latest_image('category') }})
select
    entity_id as category_id,
    payload ->> 'name' as category_name,
    payload ->> 'slug' as category_slug
from latest
