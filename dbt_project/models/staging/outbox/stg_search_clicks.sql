-- Clicks on a search result (`search.clicked`, a behaviour event: the payload is the click).
with clicks as (
    select * from {{ ref('stg_outbox__events') }}
    where event_type = 'search.clicked'
)
select
    entity_id as click_id,
    payload ->> 'search_id' as search_id,
    payload ->> 'event_id' as event_id,
    cast(payload ->> 'position' as integer) as position,
    coalesce(payload ->> 'user_id', actor_id) as user_id,
    payload ->> 'visitor_id' as visitor_id,
    coalesce(cast(payload ->> 'clicked_at' as timestamptz), occurred_at) as clicked_at
from clicks
