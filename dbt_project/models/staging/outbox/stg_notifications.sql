-- Notifications as they are now: one row per notification, its latest row image (entity
-- `notification`, entity_id = the notification's id; `notification.requested` rows share the
-- entity but are message requests, not row images, and stg_outbox__latest leaves them out).
-- The API writes a row image at every change of status (`notification.<status>`), and
-- `notification.read` when an in-app message is read. first_sent_at is the earliest send
-- the images announce: a `notification.sent`, or a `notification.delivered` (an in-app
-- message is delivered as it is sent, without a `notification.sent`), by their sent_at; else
-- the latest image's sent_at, else its delivered_at (a message delivered was sent).
with latest as ({{ latest_image('notification') }}),
sends as (
    select
        entity_id as notification_id,
        min(coalesce(cast(payload ->> 'sent_at' as timestamptz), occurred_at)) as first_sent_at
    from {{ ref('stg_outbox__events') }}
    where entity = 'notification'
      and event_type in ('notification.sent', 'notification.delivered')
    group by all
),
notifications as (
    select
        entity_id as notification_id,
        payload ->> 'user_id' as user_id,
        payload ->> 'trigger' as trigger,
        payload ->> 'category' as category,
        payload ->> 'channel' as channel,
        payload ->> 'campaign' as campaign,
        payload ->> 'variant' as variant,
        payload ->> 'template_id' as template_id,
        cast(payload ->> 'template_version' as integer) as template_version,
        payload ->> 'event_id' as event_id,
        payload ->> 'booking_id' as booking_id,
        payload ->> 'status' as status,
        cast(coalesce(payload ->> 'attempts', '0') as integer) as attempts,
        payload ->> 'provider' as provider,
        cast(payload ->> 'created_at' as timestamptz) as created_at,
        cast(payload ->> 'sent_at' as timestamptz) as sent_at,
        cast(payload ->> 'delivered_at' as timestamptz) as delivered_at,
        cast(payload ->> 'failed_at' as timestamptz) as failed_at,
        cast(payload ->> 'read_at' as timestamptz) as read_at,
        version
    from latest
)
select
    notifications.*,
    coalesce(sends.first_sent_at, notifications.sent_at, notifications.delivered_at)
        as first_sent_at
from notifications
left join sends using (notification_id)
