-- A/B variants of notifications: per campaign, variant and channel, what was sent, who it
-- reached, and how many of them confirmed a booking within the window after a send (see
-- int_notifications_attributed). Only notifications of a campaign with a variant.
with notifications as (
    select * from {{ ref('stg_notifications') }}
    where campaign is not null and variant is not null
),
attributed as (
    select * from {{ ref('int_notifications_attributed') }}
),
totals as (
    select
        notifications.campaign,
        notifications.variant,
        notifications.channel,
        count(*) as notifications,
        count(*) filter (where notifications.first_sent_at is not null) as notifications_sent,
        count(distinct notifications.user_id) filter (
            where notifications.first_sent_at is not null
        ) as users_reached,
        count(*) filter (where notifications.delivered_at is not null) as notifications_delivered,
        count(*) filter (where notifications.read_at is not null) as notifications_read,
        count(*) filter (where notifications.status in ('failed', 'dead'))
            as notifications_failed,
        count(distinct attributed.user_id) filter (where attributed.converted)
            as converted_users,
        count(distinct attributed.user_id) filter (where attributed.converted_same_event)
            as converted_users_same_event,
        min(notifications.first_sent_at) as first_sent_at,
        max(notifications.first_sent_at) as last_sent_at
    from notifications
    left join attributed using (notification_id)
    group by all
)
select
    campaign,
    variant,
    channel,
    notifications,
    notifications_sent,
    users_reached,
    notifications_delivered,
    notifications_read,
    notifications_failed,
    converted_users,
    round(converted_users / nullif(users_reached, 0), 4) as conversion_rate,
    converted_users_same_event,
    round(converted_users_same_event / nullif(users_reached, 0), 4)
        as same_event_conversion_rate,
    first_sent_at,
    last_sent_at
from totals
