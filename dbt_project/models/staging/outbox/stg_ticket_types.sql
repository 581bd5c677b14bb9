with latest as ({{ latest_image('ticket_type') }})
select
    entity_id as ticket_type_id,
    payload ->> 'event_id' as event_id,
    payload ->> 'name' as ticket_type_name,
    cast(payload ->> 'price_cents' as bigint) as price_cents,
    cast(payload ->> 'quantity' as integer) as quantity,
    event_type = 'ticket_type.deleted' as is_deleted,
    version
from latest
