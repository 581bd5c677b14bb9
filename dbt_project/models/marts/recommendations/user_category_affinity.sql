-- How much each signed-in user cares for each category, from what they booked and looked at:
-- 3 per booking confirmed now plus 1 per view of an event of the category, as a share of the
-- user's total, so a user's scores add up to 1. Anonymous views (no user) do not count.
with events as (
    select event_id, category_id from {{ ref('stg_events') }}
    where category_id is not null
),
confirmed as (
    select * from {{ ref('stg_bookings') }}
    where status = 'confirmed' and user_id is not null
),
views as (
    select * from {{ ref('stg_event_views') }}
    where user_id is not null
),
booked as (
    select confirmed.user_id, events.category_id, count(*) as bookings
    from confirmed
    join events using (event_id)
    group by all
),
viewed as (
    select views.user_id, events.category_id, count(*) as views
    from views
    join events using (event_id)
    group by all
),
weighted as (
    select
        user_id,
        category_id,
        coalesce(booked.bookings, 0) as bookings,
        coalesce(viewed.views, 0) as views,
        3 * coalesce(booked.bookings, 0) + coalesce(viewed.views, 0) as weight
    from booked
    full join viewed using (user_id, category_id)
)
select
    user_id,
    category_id,
    bookings,
    views,
    cast(weight as double) / sum(weight) over (partition by user_id) as score
from weighted
where weight > 0
