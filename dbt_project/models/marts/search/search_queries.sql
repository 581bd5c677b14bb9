-- One row per query people typed (normalized; browsing with filters only has an empty query
-- and is left out): how often it was searched, how often it found nothing, how often a result
-- was clicked and where. Every `search.performed` counts, whatever its page (stg_searches).
with searches as (
    select * from {{ ref('stg_searches') }}
    where normalized_query <> ''
),
clicks as (
    select * from {{ ref('stg_search_clicks') }}
),
clicks_per_search as (
    select search_id, count(*) as clicks, sum(position) as positions
    from clicks
    group by all
)
select
    searches.normalized_query,
    count(*) as searches,
    count(*) filter (where searches.result_count = 0) as zero_result_searches,
    round(count(*) filter (where searches.result_count = 0) / count(*), 4) as zero_result_rate,
    count(clicks_per_search.search_id) as searches_with_click,
    round(count(clicks_per_search.search_id) / count(*), 4) as click_through_rate,
    cast(coalesce(sum(clicks_per_search.clicks), 0) as bigint) as clicks,
    round(sum(clicks_per_search.positions) / sum(clicks_per_search.clicks), 2)
        as mean_click_position,
    min(searches.searched_at) as first_searched_at,
    max(searches.searched_at) as last_searched_at
from searches
left join clicks_per_search using (search_id)
group by searches.normalized_query
