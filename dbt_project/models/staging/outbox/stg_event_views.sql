-- Page views of events (behaviour events: the payload is the view).
select
    event_id as view_id,
    entity_id as event_id,
    actor_id as user_id,
    occurred_at as viewed_at
from {{ ref('stg_outbox__events') }}
where event_type = 'event.viewed'
