-- Searches people ran (`search.performed`, a behaviour event: the payload is the search): one
-- row per row of the outbox, whatever its page (a request for page 2 counts as a search).
with searches as (
    select * from {{ ref('stg_outbox__events') }}
    where event_type = 'search.performed'
)
select
    entity_id as search_id,
    payload ->> 'query' as query,
    -- the API sends it lower-cased with whitespace collapsed; rows without it get the same
    coalesce(
        payload ->> 'normalized_query',
        lower(trim(regexp_replace(coalesce(payload ->> 'query', ''), '\s+', ' ', 'g')))
    ) as normalized_query,
    coalesce(payload -> 'filters', '{}'::json) as filters,
    payload ->> 'sort' as sort,
    cast(payload ->> 'page' as integer) as page,
    cast(payload ->> 'result_count' as integer) as result_count,
    coalesce(from_json(payload -> 'result_ids', '["VARCHAR"]'), []) as result_ids,
    coalesce(payload ->> 'user_id', actor_id) as user_id,
    payload ->> 'visitor_id' as visitor_id,
    coalesce(cast(payload ->> 'searched_at' as timestamptz), occurred_at) as searched_at
from searches
