-- Events booked by the same people: for each event, the others its bookers also booked, top
-- 20 by the cosine similarity of the two events' sets of bookers, then by shared bookers:
--   score = shared_bookers / sqrt(bookers of event_id * bookers of similar_event_id)
-- Only bookings confirmed now count: one confirmed and later cancelled, refunded or expired
-- is no longer `confirmed` in stg_bookings, so its booker drops out.
with confirmed as (
    select * from {{ ref('stg_bookings') }}
    where status = 'confirmed' and user_id is not null
),
bookers as (
    select distinct event_id, user_id from confirmed
),
sizes as (
    select event_id, count(*) as bookers from bookers group by all
),
pairs as (
    select
        booked.event_id,
        also_booked.event_id as similar_event_id,
        count(*) as shared_bookers
    from bookers as booked
    join bookers as also_booked
        on also_booked.user_id = booked.user_id and also_booked.event_id <> booked.event_id
    group by all
),
scored as (
    select
        pairs.event_id,
        pairs.similar_event_id,
        pairs.shared_bookers,
        pairs.shared_bookers / sqrt(event_sizes.bookers * similar_sizes.bookers) as score
    from pairs
    join sizes as event_sizes on event_sizes.event_id = pairs.event_id
    join sizes as similar_sizes on similar_sizes.event_id = pairs.similar_event_id
)
select event_id, similar_event_id, shared_bookers, score
from scored
qualify row_number() over (
    partition by event_id order by score desc, shared_bookers desc, similar_event_id
) <= {{ var('co_bookings_per_event', 20) }}
