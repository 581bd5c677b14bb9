-- Page views of events (behaviour events: the payload is the view, not a row image). The API
-- emits them as entity `event_view` with a random entity_id and the event, user and visitor in
-- the payload; older rows (and the synthetic generator) as entity `event` with entity_id = the
-- event and the signed-in user as the actor. Both shapes read the same here.
with views as (
    select * from {{ ref('stg_outbox__events') }}
    where event_type = 'event.viewed'
)
select
    event_id as view_id,
    coalesce(payload ->> 'event_id', entity_id) as event_id,
    coalesce(payload ->> 'user_id', actor_id) as user_id,
    payload ->> 'visitor_id' as visitor_id,
    coalesce(cast(payload ->> 'viewed_at' as timestamptz), occurred_at) as viewed_at
from views
