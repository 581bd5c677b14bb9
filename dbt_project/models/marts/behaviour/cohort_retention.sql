-- Monthly cohorts by first purchase: how many of each cohort bought again N months later.
with activity as (
    select distinct user_id, date_trunc('month', confirmed_at) as active_month
    from {{ ref('stg_bookings') }}
    where status = 'confirmed' and confirmed_at is not null
),
cohorts as (
    select user_id, cohort_month from {{ ref('customers') }}
),
sizes as (
    select cohort_month, count(*) as cohort_size from cohorts group by all
)
select
    cohorts.cohort_month,
    date_diff('month', cohorts.cohort_month, activity.active_month) as months_since_first,
    count(distinct activity.user_id) as active_customers,
    any_value(sizes.cohort_size) as cohort_size,
    round(count(distinct activity.user_id) / any_value(sizes.cohort_size), 4) as retention
from cohorts
join activity using (user_id)
join sizes using (cohort_month)
group by 1, 2
