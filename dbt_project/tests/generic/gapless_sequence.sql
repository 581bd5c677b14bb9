{#- Numbers run 1, 2, 3, ... without gaps or repeats within each partition (invoice numbers
    per organizer). Fails with the partitions that break the rule. -#}
{% test gapless_sequence(model, column_name, partition_by) %}
select
    {{ partition_by }},
    count(*) as numbers,
    min({{ column_name }}) as lowest,
    max({{ column_name }}) as highest
from {{ model }}
group by {{ partition_by }}
having min({{ column_name }}) <> 1
    or max({{ column_name }}) <> count(*)
    or count(distinct {{ column_name }}) <> count(*)
{% endtest %}
