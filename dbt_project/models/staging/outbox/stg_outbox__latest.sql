{{ config(
    materialized='incremental',
    unique_key=['entity', 'entity_id'],
    incremental_strategy='delete+insert',
) }}
-- The latest row image of every entity (the outbox row with the highest version; versions of
-- one entity only grow). Incremental: a build reads only the rows landed since the newest row
-- it holds, and re-decides only the entities those rows touch, so a refresh does not scan the
-- whole outbox. Rows whose payload is not the entity's row (a view, a search, a click, a
-- reminder, a message request) are left out.
with candidates as (
    select entity, entity_id, version, outbox_id, event_type, payload, occurred_at, landed_at
    from {{ ref('stg_outbox__events') }}
    where event_type not in (
        'event.viewed', 'search.performed', 'search.clicked', 'booking.reminder_due',
        'notification.requested'
    )
    {% if is_incremental() %}
      and landed_at > (select coalesce(max(landed_at), '-infinity'::timestamptz) from {{ this }})
    {% endif %}
),
images as (
    select * from candidates
    {% if is_incremental() %}
    union all
    select entity, entity_id, version, outbox_id, event_type, payload, occurred_at, landed_at
    from {{ this }}
    where (entity, entity_id) in (select entity, entity_id from candidates)
    {% endif %}
)
select *
from images
qualify row_number() over (
    partition by entity, entity_id order by version desc, outbox_id desc
) = 1
