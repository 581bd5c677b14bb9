-- Each user's category scores add up to 1 (fails with the users whose do not).
select user_id, sum(score) as total
from {{ ref('user_category_affinity') }}
group by user_id
having abs(sum(score) - 1) > 1e-9
