-- Notifications per day, trigger and channel, each counted on the day it happened: queued
-- (created_at), sent (first_sent_at), delivered and read; and, from the row images written
-- that day, retried (an attempt failed and another is scheduled: back to `queued` with
-- attempts > 0), failed (the provider reported it undeliverable: a bounce) and dead (given
-- up on). A notification counts at most once per day in each column.
with notifications as (
    select * from {{ ref('stg_notifications') }}
),
outcomes as (
    select distinct
        entity_id as notification_id,
        cast(occurred_at as date) as notification_date,
        case
            when payload ->> 'status' = 'queued' then 'retried' else payload ->> 'status'
        end as kind
    from {{ ref('stg_outbox__events') }}
    where entity = 'notification'
      and (
          payload ->> 'status' in ('failed', 'dead')
          or (payload ->> 'status' = 'queued' and cast(payload ->> 'attempts' as integer) > 0)
      )
),
activity as (
    select notification_id, cast(created_at as date) as notification_date, 'queued' as kind
    from notifications where created_at is not null
    union all
    select notification_id, cast(first_sent_at as date), 'sent'
    from notifications where first_sent_at is not null
    union all
    select notification_id, cast(delivered_at as date), 'delivered'
    from notifications where delivered_at is not null
    union all
    select notification_id, cast(read_at as date), 'read'
    from notifications where read_at is not null
    union all
    select notification_id, notification_date, kind
    from outcomes
)
select
    activity.notification_date,
    notifications.trigger,
    notifications.channel,
    count(*) filter (where activity.kind = 'queued') as queued,
    count(*) filter (where activity.kind = 'sent') as sent,
    count(*) filter (where activity.kind = 'delivered') as delivered,
    count(*) filter (where activity.kind = 'read') as read,
    count(*) filter (where activity.kind = 'retried') as retried,
    count(*) filter (where activity.kind = 'failed') as failed,
    count(*) filter (where activity.kind = 'dead') as dead
from activity
join notifications using (notification_id)
group by all
