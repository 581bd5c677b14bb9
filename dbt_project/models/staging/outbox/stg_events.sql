-- Events as they are now (`event.viewed` rows are views, not row images).
with latest as ({{ latest_image('event') }})
select
    entity_id as event_id,
    payload ->> 'title' as title,
    payload ->> 'organizer_id' as organizer_id,
    payload ->> 'category_id' as category_id,
    payload ->> 'city' as city,
    payload ->> 'country' as country,
    payload ->> 'currency' as currency,
    payload ->> 'status' as status,
    cast(payload ->> 'capacity' as integer) as capacity,
    cast(payload ->> 'starts_at' as timestamptz) as starts_at,
    cast(payload ->> 'ends_at' as timestamptz) as ends_at,
    payload ->> 'timezone' as timezone,
    cast(payload ->> 'published_at' as timestamptz) as published_at,
    cast(payload ->> 'cancelled_at' as timestamptz) as cancelled_at,
    cast(payload ->> 'created_at' as timestamptz) as created_at,
    event_type = 'event.deleted' as is_deleted,
    version
from latest
