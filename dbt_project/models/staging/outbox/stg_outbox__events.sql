-- Every outbox event, typed. The payload is the entity's full row image after the change.
select
    event_id,
    outbox_id,
    event_type,
    entity,
    entity_id,
    version,
    payload,
    occurred_at,
    actor_id,
    landed_at
from {{ source('raw', 'outbox_events') }}
