-- Search traffic per day: every search, filter-only browsing included; searchers are
-- signed-in users or anonymous visitors, whichever the search names.
with searches as (
    select * from {{ ref('stg_searches') }}
),
clicked as (
    select distinct search_id from {{ ref('stg_search_clicks') }}
)
select
    cast(searches.searched_at as date) as search_date,
    count(*) as searches,
    count(distinct coalesce('user:' || searches.user_id, 'visitor:' || searches.visitor_id))
        as unique_searchers,
    count(*) filter (where searches.result_count = 0) as zero_result_searches,
    round(count(*) filter (where searches.result_count = 0) / count(*), 4) as zero_result_rate,
    count(clicked.search_id) as searches_with_click,
    round(count(clicked.search_id) / count(*), 4) as click_through_rate
from searches
left join clicked using (search_id)
group by all
